#!/usr/bin/env bash
# Runs every test: unit and integration tests (SQLite, and PostgreSQL when reachable), then
# the end-to-end tests in Chromium against `orrery serve --demo`. Installs what is missing.
#
# ORRERY_REQUIRE_POSTGRES=1 makes an unreachable PostgreSQL a failure instead of a skip;
# ORRERY_TEST_POSTGRES_URL sets the admin connection (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --browser --mlflow

pg_url=${ORRERY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if command -v pg_isready >/dev/null && ! pg_isready -q -d "$pg_url"; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -d "$pg_url" && break; sleep 1; done
  fi
fi
if command -v psql >/dev/null && pg_isready -q -d "$pg_url" 2>/dev/null; then
  # Databases left by an interrupted earlier run.
  psql -q -d "$pg_url" -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'orrery_test_%'" |
    while read -r name; do psql -q -d "$pg_url" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"; done
fi

scripts/build.sh

echo "==> unit and integration tests"
cargo test --features ssr

echo "==> starting the demo server for the MLflow client and browser tests"
data_dir=$(mktemp -d)
port=${ORRERY_E2E_PORT:-3217}
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

demo_password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
member_password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
reviewer_password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$member_password" | target/debug/orrery user create --username analyst --password-stdin --data-dir "$data_dir" >/dev/null
echo "$reviewer_password" | target/debug/orrery user create --username reviewer --password-stdin --data-dir "$data_dir" >/dev/null
ORRERY_DEMO_PASSWORD="$demo_password" target/debug/orrery serve --demo --data-dir "$data_dir" \
  --addr "127.0.0.1:$port" >"$data_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$data_dir/server.log"; echo "the demo server exited" >&2; exit 1; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$data_dir/server.log"; echo "the demo server did not start within 300 s" >&2; exit 1; }

echo "==> the MLflow $(target/mlflow-venv/bin/python -c 'import mlflow; print(mlflow.__version__)') client against the demo server"
mlflow_token=$(target/debug/orrery token create --user demo --name mlflow-client-test --data-dir "$data_dir" | tail -n 1)
MLFLOW_TRACKING_URI="http://127.0.0.1:$port" MLFLOW_TRACKING_TOKEN="$mlflow_token" \
  target/mlflow-venv/bin/python tests/mlflow/client_test.py || { tail -n 40 "$data_dir/server.log"; exit 1; }

echo "==> end-to-end tests in Chromium"
(cd end2end && ORRERY_E2E_URL="http://127.0.0.1:$port" ORRERY_E2E_DEMO_PASSWORD="$demo_password" \
  ORRERY_E2E_MEMBER="analyst:$member_password" ORRERY_E2E_REVIEWER="reviewer:$reviewer_password" npm test) ||
  { tail -n 40 "$data_dir/server.log"; exit 1; }
