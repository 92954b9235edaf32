#!/usr/bin/env bash
# Installs the system packages the test suite needs, non-interactively, when they are absent.
# Debian/Ubuntu only; elsewhere it says what is missing and carries on.
set -euo pipefail
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
  echo "installing system packages for tests: ${need[*]}"
  if ! { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
          $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
    echo "warning: could not install ${need[*]}; GUI tests will run offscreen" >&2
  fi
else
  echo "warning: cannot install ${need[*]} (no apt-get); GUI tests will run offscreen" >&2
fi
