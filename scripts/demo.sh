#!/usr/bin/env bash
# Builds an optimised Orrery and starts it with the demo workspace on real data.
# Extra arguments go to `orrery serve`, such as --addr 0.0.0.0:3000 or --data-dir /srv/orrery.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --npm
scripts/build.sh --release
exec target/release/orrery serve --demo "$@"
