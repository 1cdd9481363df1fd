#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine: the system libraries WeasyPrint
# uses, and a virtual environment in .venv with the project and its pinned dependencies.
# Safe to run again; it only installs what is missing.
#
#   scripts/setup.sh demo   what `briefing demo` needs: WeasyPrint's libraries, fonts, and
#                           the project with its runtime dependencies (`make demo`)
#   scripts/setup.sh        all that, and what the tests use: the dev tools, PostgreSQL,
#                           pdftoppm, Chromium and the accessibility checker (`make test`)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
case "$mode" in
  demo|all) ;;
  *) echo "setup: unknown mode '$mode' (expected demo, or nothing for everything)" >&2; exit 2 ;;
esac

need_apt=()
# (grep without -q reads all input, so pipefail never sees a SIGPIPE from the producer)
have_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }
have_lib "libpango-1.0.so" || need_apt+=(libpango-1.0-0)
have_lib "libpangoft2-1.0.so" || need_apt+=(libpangoft2-1.0-0)
# HarfBuzz's subsetter makes PDF fonts ~1 s faster per briefing; WeasyPrint works without it.
have_lib "libharfbuzz-subset.so" || need_apt+=(libharfbuzz-subset0)
fc-list 2>/dev/null | grep -i "DejaVu Sans" >/dev/null || need_apt+=(fonts-dejavu-core)
if [ "$mode" = all ]; then
  # For the tests: PDF pages to images (pdftoppm), and a browser for the accessibility checks.
  command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  command -v node >/dev/null || need_apt+=(nodejs npm)
  # PostgreSQL behind the Prefect server and the history store, for the scale-out test.
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need_apt+=(postgresql postgresql-contrib)
fi
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${need_apt[*]}"
    # Another install may hold the package manager's lock: wait for it, saying so, and let
    # apt itself wait too (for the moment between our check and its own).
    source scripts/wait_for_apt.sh
    wait_for_apt
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install these system packages: ${need_apt[*]}" >&2
    [[ " ${need_apt[*]} " == *" libpango-1.0-0 "* ]] && exit 1
  fi
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$c"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
# One stamp per mode: everything ("all") includes the demo's part.
if [ "$mode" = all ]; then
  stamp=.venv/.installed-all target=".[dev]" check="prefect, weasyprint, pandas, aiosmtpd, psycopg"
else
  stamp=.venv/.installed-demo target="." check="prefect, weasyprint, pandas"
fi
[ "$mode" = demo ] && [ -f .venv/.installed-all ] && [ .venv/.installed-all -nt pyproject.toml ] \
  && [ .venv/.installed-all -nt constraints.txt ] && stamp=.venv/.installed-all
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  if [ "$mode" = all ]; then
    echo "setup: installing the project, its dependencies and the test tools into .venv (about a minute)"
  else
    echo "setup: installing the project and its dependencies into .venv (about a minute)"
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  # constraints.txt pins every package to the versions tested (pip freeze of a green run),
  # so a new release upstream cannot break a fresh install.
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e "$target" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import $check" \
    || { echo "setup: the install failed; see the messages above" >&2; exit 1; }
  touch "$stamp"
fi
# DfE's rules for the SSDA903 and CIN census returns, run by Data to Insight's validators in
# an environment of their own: they pin pandas<2 and numpy<1.25, which .venv cannot share.
# tasks/returns/validators.py calls it as a subprocess. The demo's setup makes it too: the
# demo reads an SSDA903 (docs/returns.md). --no-compile: only the modules a run imports get
# compiled (on first use) instead of all of pandas and numpy, which halves the install.
vstamp=.venv-validators/.installed
if [ ! -f "$vstamp" ] || [ constraints-validators.txt -nt "$vstamp" ]; then
  echo "setup: installing DfE's return validators into .venv-validators (about 30 s)"
  [ -x .venv-validators/bin/python ] || "$PY" -m venv .venv-validators
  .venv-validators/bin/python -m pip install -q --no-compile --disable-pip-version-check \
    -c constraints-validators.txt csc-validator-be-903 csc-validator-be-cin 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv-validators/bin/python -c "import lac_validator.rules.ruleset_utils, cin_validator.rules.ruleset_utils" \
    || { echo "setup: the validators' install failed; see the messages above" >&2; exit 1; }
  touch "$vstamp"
fi
# axe-core and a driver for the system Chromium, pinned in tools/a11y/package-lock.json.
if [ "$mode" = all ] && command -v npm >/dev/null && [ ! -d tools/a11y/node_modules/axe-core ]; then
  echo "setup: installing the accessibility checker (tools/a11y)"
  npm ci --prefix tools/a11y --no-audit --no-fund --loglevel=error >/dev/null
fi
if [ "$mode" = demo ]; then
  echo "setup: ready for the demo (.venv/bin/briefing); make test adds the test tools"
else
  echo "setup: ready (.venv/bin/briefing)"
fi
