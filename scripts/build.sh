#!/usr/bin/env bash
# Builds the browser bundle and the server: `scripts/build.sh` for a debug build,
# `scripts/build.sh --release` for an optimised one.
#
# A plain cargo + wasm-bindgen pipeline instead of cargo-leptos: it needs no extra tool
# (cargo-leptos takes over half an hour to compile on two cores) and builds the server with
# the same flags as `cargo test`, so tests reuse the build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tools that `cargo install` puts in place are on PATH even in a shell rustup did not set up.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

release=false
for arg in "$@"; do
  case "$arg" in
    --release) release=true ;;
    *) echo "build.sh: unknown option $arg (use --release)" >&2; exit 2 ;;
  esac
done

site=target/site
mkdir -p "$site/pkg" "$site/public"

if [ "$release" = true ]; then
  cargo build --lib --target wasm32-unknown-unknown --features hydrate --profile wasm-release
  wasm=target/wasm32-unknown-unknown/wasm-release/orrery.wasm
else
  cargo build --lib --target wasm32-unknown-unknown --features hydrate
  wasm=target/wasm32-unknown-unknown/debug/orrery.wasm
fi
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name orrery "$wasm"

# Debian's binaryen 108 produces a bundle that fails in the browser, so only the npm
# package's wasm-opt is used, when installed.
wasm_opt=end2end/node_modules/.bin/wasm-opt
if [ "$release" = true ] && [ -x "$wasm_opt" ]; then
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$site/pkg/orrery_bg.wasm" -o "$site/pkg/orrery_bg.wasm"
fi

cp style/main.css "$site/pkg/orrery.css"
cp -r public/. "$site/public/"

if [ "$release" = true ]; then
  cargo build --release --features ssr --bin orrery
else
  cargo build --features ssr --bin orrery
fi
