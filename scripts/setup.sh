#!/usr/bin/env bash
# Set fedimpute up on this machine, idempotently:
#   - system tools from Debian/Ubuntu packages when run as root (elsewhere: see environment.yml);
#   - a virtual environment in .venv with fedimpute and its ui, report, jupyter, test and engine extras.
# Usage: scripts/setup.sh            (FEDIMPUTE_PYTHON=python3.12 to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian/Ubuntu packages the features and tests need: the local engine's and pre-flight's tools
# (jq and libmagic1 are used by the sapporo WES server; chromium renders exported reports in the tests).
APT_PACKAGES=(bcftools tabix beagle minimac4 bio-eagle jq libmagic1 chromium)

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
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[ui,report,jupyter,test,engine]' 2>&1 \
  | grep -v '^WARNING: Location' >&2 || true
.venv/bin/python -c 'import fedimpute' || { echo "setup: installing fedimpute failed" >&2; exit 1; }
# The WES server (sapporo + cwltool, pinned) lives in its own venv: it pins its own FastAPI and pydantic.
.venv/bin/python -m fedimpute.engine.wesenv >/dev/null
echo "setup: ready (.venv/bin/fedimpute)" >&2
