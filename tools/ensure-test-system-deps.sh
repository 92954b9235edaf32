#!/usr/bin/env bash
# Installs the system packages the test suite needs, non-interactively, when they are absent:
# Xvfb (the real-window test, tests/gui/test_real_window.py) and the libraries Qt's xcb
# platform needs (tools/ensure-qt-runtime-deps.sh). Debian/Ubuntu only; elsewhere it says what
# is missing and carries on.
set -euo pipefail
python=${1:-.venv/bin/python}
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
    echo "installing system packages for tests: ${need[*]}"
    if ! { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
            $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
      echo "warning: could not install ${need[*]}; the real-window test cannot run" >&2
    fi
  else
    echo "warning: cannot install ${need[*]} (no apt-get); the real-window test cannot run" >&2
  fi
fi
bash "$(dirname "$0")/ensure-qt-runtime-deps.sh" "$python" ||
  echo "warning: Qt's system libraries are incomplete; the real-window test will fail" >&2
