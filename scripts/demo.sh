#!/usr/bin/env bash
# Set everything up, then show fedimpute working in a throw-away FEDIMPUTE_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/walkthrough.py "$@"
