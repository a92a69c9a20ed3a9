#!/usr/bin/env bash
# The gates CI runs before the tests: ruff (lint + import order) and mypy (strict outside fedimpute/ui).
# Usage: scripts/lint.sh   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: ruff" >&2
.venv/bin/ruff check fedimpute tests benchmarks apps scripts
echo "lint: mypy" >&2
.venv/bin/mypy
