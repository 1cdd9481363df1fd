#!/usr/bin/env bash
# Wait (saying so) while another install holds the package manager's locks, rather than
# failing with apt's bare "Could not get lock" error. Sourced by setup.sh; run alone it
# waits and exits 0 when the locks are free, 1 after SETUP_APT_WAIT seconds (default 600).
# The locks are POSIX record locks (fcntl), as dpkg and apt take them; tests point
# SETUP_APT_LOCKS at files of their own.
apt_locks_free() {
  python3 - ${SETUP_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock} <<'PY'
import fcntl, os, sys
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    try:
        with open(path, "r+b") as f:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except PermissionError:
        continue  # not ours to check (not root); apt's own timeout still waits
    except OSError:
        print(path)
        sys.exit(1)
PY
}

wait_for_apt() {
  local limit="${SETUP_APT_WAIT:-600}" waited=0 held
  while ! held="$(apt_locks_free)"; do
    if [ "$waited" = 0 ]; then
      echo "setup: another package install is running (it holds $held); waiting for it to finish (up to ${limit} s)"
    fi
    if [ "$waited" -ge "$limit" ]; then
      echo "setup: the package manager is still busy after ${limit} s; run 'make setup' again when the other install has finished" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  [ "$waited" = 0 ] || echo "setup: the package manager is free; going on"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  wait_for_apt
fi
