#!/usr/bin/env bash
# Set everything up, then run the demo: simulated data, the local engine, a real imputation job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The demo's data, panel, engine and results live in .fedimpute-demo/ unless FEDIMPUTE_HOME says otherwise.
export FEDIMPUTE_HOME="${FEDIMPUTE_HOME:-$PWD/.fedimpute-demo}"
exec .venv/bin/fedimpute demo "$@"
