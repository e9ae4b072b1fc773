#!/usr/bin/env bash
# Compare Orrery's MLflow REST API with a real MLflow server, one server at a time, with the
# same load script (load.py): log-batch throughput, runs/search latency at 2,000 and 10,000
# runs, and metrics/get-history latency for 10,000 points. Both servers store in SQLite under
# one folder in target/, so on the same disk.
#
# Usage: benches/mlflow_rest/run.sh [load.py measure options, e.g. --points 20000]
#
# Environment:
#   MLFLOW_WORKERS   uvicorn workers of the MLflow server (default 4, MLflow's own default)
#   BENCH_KEEP_DATA  set to 1 to keep both servers' databases after the run
#
# It builds target/release/orrery, installs MLflow from requirements.txt into
# target/mlflow-server-venv, and writes logs, JSON results and the Markdown table to
# target/bench-mlflow-rest/<date-time>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

mlflow_workers="${MLFLOW_WORKERS:-4}"
venv="$repo/target/mlflow-server-venv"
work="$repo/target/bench-mlflow-rest/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- Tools ----------------------------------------------------------------------------------

if ! command -v cargo >/dev/null; then
    say "cargo is missing: install Rust with rustup (see README.md), then run this again"
    exit 1
fi
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    say "installing python3, python3-venv and curl with apt-get"
    apt-get update -q
    apt-get install -y -q python3 python3-venv curl
fi

say "building Orrery: cargo build --release --features ssr"
cargo build --release --features ssr
orrery="$repo/target/release/orrery"

# The venv is rebuilt when requirements.txt changes.
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/mlflow" || "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    say "installing MLflow from $here/requirements.txt into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --requirement "$here/requirements.txt"
    echo "$wanted" > "$stamp"
fi

# ---- Server processes -----------------------------------------------------------------------

# PIDs of the servers this script started. Each runs in its own session (setsid), so its
# process group id equals its PID and stopping the group also stops MLflow's worker processes.
server_pids=()

stop_server() {
    local pid="$1"
    kill -TERM -- "-$pid" 2>/dev/null || return 0
    for _ in $(seq 1 60); do
        if ! kill -0 -- "-$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            return 0
        fi
        sleep 0.5
    done
    say "process group $pid did not stop within 30 s of SIGTERM; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_all() {
    for pid in "${server_pids[@]}"; do
        stop_server "$pid"
    done
    server_pids=()
}
trap stop_all EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for URL PID LOG: wait until URL answers 200, failing if the server exits first.
wait_for() {
    local url="$1" pid="$2" log="$3"
    for _ in $(seq 1 240); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "the server exited before $url answered; the end of $log:"
            tail -n 30 "$log" >&2
            exit 1
        fi
        sleep 0.5
    done
    say "$url did not answer within 120 s; the end of $log:"
    tail -n 30 "$log" >&2
    exit 1
}

# ---- Orrery ---------------------------------------------------------------------------------

orrery_data="$work/orrery-data"
orrery_port="$(free_port)"
orrery_url="http://127.0.0.1:$orrery_port"
orrery_version="$("$orrery" --version), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src migrations Cargo.toml Cargo.lock || echo ' with uncommitted changes')"
mkdir -p "$orrery_data"

say "starting Orrery ($orrery_version) on $orrery_url"
setsid "$orrery" serve --data-dir "$orrery_data" --addr "127.0.0.1:$orrery_port" > "$work/orrery.log" 2>&1 &
orrery_pid=$!
server_pids+=("$orrery_pid")
echo "orrery $orrery_pid" >> "$work/pids"
wait_for "$orrery_url/readyz" "$orrery_pid" "$work/orrery.log"

# A new server's setup form creates the first administrator together with a workspace; the
# MLflow API acts in the user's default workspace. The CLI has no command that creates a
# workspace, so this posts the form as the first visit's page would.
password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$orrery_url/setup" \
    --data-urlencode username=bench --data-urlencode "password=$password" --data-urlencode workspace=bench)"
if [[ "$status" != 303 ]]; then
    say "POST /setup returned HTTP $status, expected a 303 redirect; see $work/orrery.log"
    exit 1
fi
token="$("$orrery" token create --user bench --name bench --data-dir "$orrery_data" | tail -n 1)"

say "measuring Orrery"
python3 "$here/load.py" measure --url "$orrery_url" --token "$token" --label Orrery \
    --server-version "$orrery_version" --out "$work/orrery.json" "$@"
stop_server "$orrery_pid"
server_pids=()

# ---- MLflow ---------------------------------------------------------------------------------

mlflow_data="$work/mlflow-data"
mlflow_port="$(free_port)"
mlflow_url="http://127.0.0.1:$mlflow_port"
mkdir -p "$mlflow_data/artifacts"

say "starting MLflow with $mlflow_workers workers on $mlflow_url"
MLFLOW_DISABLE_TELEMETRY=true setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mlflow_port" \
    --backend-store-uri "sqlite:///$mlflow_data/mlflow.db" --artifacts-destination "$mlflow_data/artifacts" \
    --workers "$mlflow_workers" > "$work/mlflow.log" 2>&1 &
mlflow_pid=$!
server_pids+=("$mlflow_pid")
echo "mlflow $mlflow_pid" >> "$work/pids"
wait_for "$mlflow_url/health" "$mlflow_pid" "$work/mlflow.log"
mlflow_version="MLflow $(curl -fsS "$mlflow_url/version"), $mlflow_workers uvicorn workers"

say "measuring MLflow"
python3 "$here/load.py" measure --url "$mlflow_url" --label MLflow \
    --server-version "$mlflow_version" --out "$work/mlflow.json" "$@"
stop_server "$mlflow_pid"
server_pids=()

# ---- Report ---------------------------------------------------------------------------------

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
    echo "kernel: $(uname -r)"
    echo "orrery: $orrery_version; $(rustc --version)"
    echo "mlflow: $mlflow_version; $("$venv/bin/python" --version), SQLite $("$venv/bin/python" -c 'import sqlite3; print(sqlite3.sqlite_version)')"
    echo "client: $(python3 --version), load.py $*"
} > "$work/machine.txt"

if [[ "${BENCH_KEEP_DATA:-0}" != 1 ]]; then
    rm -rf "$orrery_data" "$mlflow_data"
fi

echo
cat "$work/machine.txt"
echo
python3 "$here/load.py" report --orrery "$work/orrery.json" --mlflow "$work/mlflow.json" --markdown "$work/results.md"
echo
echo "results: $work"
