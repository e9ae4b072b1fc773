#!/usr/bin/env bash
# Installs what building Orrery needs and the machine lacks: the wasm target, wasm-bindgen
# at the version in Cargo.lock, the npm packages (--npm), Chromium (--browser) and a Python
# virtualenv with the MLflow client (--mlflow).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tools that `cargo install` puts in place are on PATH even in a shell rustup did not set up.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

want_browser=false
want_npm=false
want_mlflow=false
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=true; want_npm=true ;;
    --npm) want_npm=true ;;
    --mlflow) want_mlflow=true ;;
    *) echo "setup.sh: unknown option $arg (use --browser, --npm or --mlflow)" >&2; exit 2 ;;
  esac
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> installing the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v npm >/dev/null && [ "$want_npm" = true ]; then
  echo "==> installing Node.js and npm from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

# wasm-bindgen's CLI must match the library version exactly, or the bundle fails to load.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
installed=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$installed" != "$bindgen_version" ]; then
  echo "==> installing wasm-bindgen-cli $bindgen_version (found: ${installed:-none})"
  # Without --locked: the registry may not serve every version its lock file pins.
  cargo install wasm-bindgen-cli --version "=$bindgen_version"
fi

if [ "$want_browser" = true ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Chromium from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
fi

# The npm packages: playwright-core drives Chromium in the end-to-end tests, and binaryen's
# wasm-opt shrinks the release bundle (Debian's binaryen 108 breaks it).
if [ "$want_npm" = true ]; then
  if [ ! -d end2end/node_modules/playwright-core ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    echo "==> installing the end-to-end test packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi

# tests/mlflow/client_test.py runs the MLflow client from its own virtualenv, so the system
# Python stays untouched. The marker file records a finished install, and a requirements.txt
# newer than the marker triggers a reinstall.
if [ "$want_mlflow" = true ]; then
  venv=target/mlflow-venv
  requirements=tests/mlflow/requirements.txt
  if [ ! -f "$venv/.installed" ] || [ "$requirements" -nt "$venv/.installed" ]; then
    echo "==> installing the MLflow client into $venv"
    # --clear starts from an empty venv, so packages dropped from the file do not linger.
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install --quiet --requirement "$requirements"
    touch "$venv/.installed"
  fi
fi
