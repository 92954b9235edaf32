#!/usr/bin/env bash
# The X11 libraries Qt's xcb platform plugin links to, installed on the build machine when
# absent so that PyInstaller copies them into the bundle (a desktop may lack some of them).
# Debian/Ubuntu only; elsewhere it says what is missing and carries on.
set -euo pipefail
packages=(libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0)
command -v dpkg-query >/dev/null 2>&1 || { echo "note: not Debian/Ubuntu; make sure ${packages[*]} are installed" >&2; exit 0; }
need=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || need+=("$package")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
echo "installing system packages for the bundle: ${need[*]}"
if ! { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "warning: could not install ${need[*]}; the bundle will need them on the user's machine" >&2
fi
