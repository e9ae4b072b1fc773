#!/usr/bin/env bash
# Times Parquet ingestion into a release build of Orrery, and the drift page as stored
# production rows grow to 10 million. prepare.py resamples the census demo data into files of
# 1,000,000 rows spread over 30 days. measure.py posts them one by one and loads the pages
# after 1, 2, 5 and 10 files.
#
# Usage: benches/monitoring/run.sh [measure.py options, such as --calls 50]
#
# Environment:
#   BENCH_FILES       production files of BENCH_ROWS rows (default 10)
#   BENCH_ROWS        rows per production file (default 1000000)
#   BENCH_KEEP_DATA   set to 1 to keep the files and the server's data folder
#
# Results go to target/bench-monitoring/<UTC date-time>/: run.log, results.json, server.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

files="${BENCH_FILES:-10}"
rows="${BENCH_ROWS:-1000000}"
venv="$repo/target/monitoring-bench-venv"
work="$repo/target/bench-monitoring/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work"
exec > >(tee -a "$work/run.log") 2>&1

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null || ! command -v curl >/dev/null; then
    say "installing python3, python3-venv and curl with apt-get"
    apt-get update -q
    apt-get install -y -q python3 python3-venv curl
fi
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import numpy, pyarrow' 2>/dev/null; then
    say "installing $here/requirements.txt into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
say "building target/release/orrery"
cargo build --release --features ssr --bin orrery
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [[ ! -d target/site/pkg ]]; then
    say "building the browser bundle the pages need"
    scripts/build.sh --release
fi

say "writing $files files of $rows rows"
"$venv/bin/python" "$here/prepare.py" --out-dir "$work/data" --rows "$rows" --files "$files"

server_dir="$work/server"
mkdir -p "$server_dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
ORRERY_DEMO_PASSWORD="$password" target/release/orrery serve --demo --data-dir "$server_dir" --addr "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server_pid=$!
cleanup() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    if [[ "${BENCH_KEEP_DATA:-0}" != 1 ]]; then rm -rf "$work/data" "$server_dir"; fi
}
trap cleanup EXIT
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$work/server.log"; say "the server exited"; exit 1; }
    sleep 1
done
token=$(target/release/orrery token create --user demo --name monitoring-bench --data-dir "$server_dir" | tail -n 1)

say "measuring against http://127.0.0.1:$port (server PID $server_pid)"
"$venv/bin/python" "$here/measure.py" --url "http://127.0.0.1:$port" --token "$token" --data-dir "$work/data" \
    --out "$work/results.json" "$@"
say "disk used by the server's data folder: $(du -sh "$server_dir" | cut -f1)"
