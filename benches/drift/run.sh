#!/usr/bin/env bash
# Compare `orrery drift` with Evidently 0.7.23's default data drift report (DataDriftPreset)
# and with plain numpy/scipy on the same Parquet files: reference rows from 2015 and current
# rows from 2018 of demo-data/us_census_ma_employment.parquet, resampled to 10,000, 100,000
# and 1,000,000 rows per side. Each run is a fresh process. The script reports the median
# wall time, CPU time and peak RSS, and checks that the per-column drift values agree.
#
# Usage: benches/drift/run.sh [measure.py run options, e.g. --repeats 5 --time-budget 1800]
#
# Environment:
#   BENCH_DRIFT_SIZES      rows per side, comma-separated (default 10000,100000,1000000)
#   BENCH_DRIFT_SEED       seed of the resampling (default 2015)
#   BENCH_DRIFT_KEEP_DATA  set to 1 to keep the generated Parquet files after the run
#
# It uses target/release/orrery as it is and builds it only when it is missing. It installs
# the Python packages of requirements.txt into target/drift-bench-venv and writes the log,
# results.json, results.md and each run's output to target/bench-drift/<UTC date-time>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

sizes="${BENCH_DRIFT_SIZES:-10000,100000,1000000}"
seed="${BENCH_DRIFT_SEED:-2015}"
venv="$repo/target/drift-bench-venv"
orrery="$repo/target/release/orrery"
work="$repo/target/bench-drift/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work"
exec > >(tee -a "$work/run.log") 2>&1

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- Tools ----------------------------------------------------------------------------------

# Debian's python3 lacks the venv and ensurepip modules until python3-venv is installed.
if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    say "installing python3 and python3-venv with apt-get"
    apt-get update -q
    apt-get install -y -q python3 python3-venv
fi

if [[ ! -x "$orrery" ]]; then
    if ! command -v cargo >/dev/null; then
        say "$orrery is missing and cargo is not installed: install Rust with rustup (see README.md), then run this again"
        exit 1
    fi
    say "$orrery is missing; building it: cargo build --release --features ssr"
    cargo build --release --features ssr
fi

# The venv is rebuilt when requirements.txt changes.
stamp="$venv/.requirements.sha256"
expected_hash="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$expected_hash" ]]; then
    say "installing $here/requirements.txt into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    if ! "$venv/bin/pip" install --quiet --requirement "$here/requirements.txt"; then
        say "pip could not install $here/requirements.txt; its error is above"
        exit 1
    fi
    echo "$expected_hash" > "$stamp"
fi
python="$venv/bin/python"

# ---- Machine --------------------------------------------------------------------------------

# The binary is used as it is, so it may have been built from an older commit than HEAD.
# machine.json records both times so that a reader can tell.
head_commit="$(git rev-parse --short HEAD)"
head_time="$(git show -s --format=%cI HEAD)"
if ! git diff --quiet HEAD -- src migrations Cargo.toml Cargo.lock; then
    head_commit="$head_commit (the work tree has uncommitted changes in src, migrations or Cargo files)"
fi
"$python" - "$work/machine.json" "$orrery" "$head_commit" "$head_time" <<'EOF'
import hashlib, json, os, pathlib, platform, subprocess, sys

out, orrery, head_commit, head_time = sys.argv[1:5]
cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
meminfo = pathlib.Path("/proc/meminfo").read_text()
model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), None)
mem_kib = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:"))
binary = pathlib.Path(orrery)
machine = {
    "nproc": int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout),
    "cpu_model": model,
    "memory_gib": round(mem_kib / 1024**2, 1),
    "kernel": platform.release(),
    "python": platform.python_version(),
    "orrery_version": subprocess.run([orrery, "--version"], capture_output=True, text=True, check=True).stdout.strip(),
    "orrery_binary_sha256": hashlib.sha256(binary.read_bytes()).hexdigest(),
    "orrery_binary_mtime_utc": subprocess.run(["date", "-u", "-r", orrery, "+%Y-%m-%dT%H:%M:%SZ"], capture_output=True, text=True, check=True).stdout.strip(),
    "work_tree_head": head_commit,
    "work_tree_head_commit_time": head_time,
    "openblas_env": {name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
}
pathlib.Path(out).write_text(json.dumps(machine, indent=1) + "\n")
for key, value in machine.items():
    print(f"{key}: {value}")
EOF

# ---- Data and measurements ------------------------------------------------------------------

say "writing reference (2015) and current (2018) files of $sizes rows per side"
"$python" "$here/prepare.py" --out-dir "$work/data" --sizes "$sizes" --seed "$seed"

say "measuring orrery, Evidently and numpy/scipy"
"$python" "$here/measure.py" run --manifest "$work/data/manifest.json" --orrery "$orrery" \
    --out-dir "$work" --machine "$work/machine.json" "$@"

if [[ "${BENCH_DRIFT_KEEP_DATA:-0}" != 1 ]]; then
    rm -f "$work"/data/*.parquet
fi
echo
echo "results: $work"
