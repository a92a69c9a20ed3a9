#!/usr/bin/env bash
# Set fedimpute up on this machine, idempotently:
#   - system tools from Debian/Ubuntu packages when run as root (elsewhere: see environment.yml);
#   - a virtual environment in .venv with fedimpute and its ui, report, jupyter, test and engine extras.
# Usage: scripts/setup.sh            (FEDIMPUTE_PYTHON=python3.12 to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian/Ubuntu packages the features and tests need: the local engine's and pre-flight's tools
# (jq and libmagic1 are used by the sapporo WES server; chromium renders exported reports in the tests;
# gcc builds the quality command's line scanner on first use, which falls back to DuckDB without it;
# slurm-wlm and munge give the local engine's Toil runner a real cluster: scripts/slurm-local.sh).
APT_PACKAGES=(bcftools tabix beagle minimac4 bio-eagle jq libmagic1 chromium gcc libc6-dev slurm-wlm munge)

PY="${FEDIMPUTE_PYTHON:-python3}"
have_root_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if have_root_apt; then
    echo "setup: apt-get install ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing system packages ${missing[*]}; install them (or use environment.yml with conda)" >&2
  fi
}

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: fedimpute needs Python 3.11 or newer; set FEDIMPUTE_PYTHON to one (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ${#APT_PACKAGES[@]} -gt 0 ]; then apt_install "${APT_PACKAGES[@]}"; fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi
# pip's output is shown without its noise; a failing pip stops the set-up (never a half-installed venv).
pip_install() {
  local log status=0
  log=$(mktemp)
  .venv/bin/python -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1 || status=$?
  grep -v '^WARNING: Location' "$log" >&2 || true
  rm -f "$log"
  if [ "$status" -ne 0 ]; then echo "setup: pip install $* failed (exit $status)" >&2; exit 1; fi
}
pip_install --upgrade pip
pip_install -e '.[ui,report,jupyter,test,engine]'
# Checked from outside the clone, so the installed package is imported, not the source folder.
(cd / && "$OLDPWD/.venv/bin/python" -c 'import fedimpute, httpx, panel') \
  || { echo "setup: fedimpute is not installed in .venv" >&2; exit 1; }
# The WES server (sapporo + cwltool, pinned) lives in its own venv: it pins its own FastAPI and pydantic.
.venv/bin/python -m fedimpute.engine.wesenv >/dev/null
# Toil (the engine's second runner, `--runner toil`, for Slurm and other batch systems) likewise: it pins its own cwltool.
.venv/bin/python -m fedimpute.engine.toilenv >/dev/null
echo "setup: ready (.venv/bin/fedimpute)" >&2
