#!/usr/bin/env bash
# `make screenshots`: a window manager (openbox) so the pictures show title bars. Debian/Ubuntu
# only; without it the screenshots are taken without one.
set -euo pipefail
command -v openbox >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
  echo "installing openbox for the screenshots"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openbox >/dev/null ||
    echo "warning: could not install openbox; screenshots without title bars" >&2
fi
