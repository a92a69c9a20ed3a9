#!/usr/bin/env bash
# Set everything up, then show fedimpute working in a throw-away FEDIMPUTE_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/walkthrough.py
# The demo's data, panel, engine and results live in .fedimpute-demo/ unless FEDIMPUTE_HOME says otherwise.
export FEDIMPUTE_HOME="${FEDIMPUTE_HOME:-$PWD/.fedimpute-demo}"
exec .venv/bin/fedimpute demo "$@"
