#!/usr/bin/env bash
# The libraries Qt's xcb platform plugin links to, installed on the build machine when absent so
# that PyInstaller copies them into the bundle (a desktop may lack some of them). Which ones:
# packaging/linux/qt-system-libs.sh (ldd on the installed Qt). Usage: ensure-build-deps.sh PYTHON
set -euo pipefail
python=${1:-.venv/bin/python}
qt_dir=$("$python" -c 'import os, PySide6; print(os.path.dirname(PySide6.__file__))')
sh "$(dirname "$0")/linux/qt-system-libs.sh" install "$qt_dir" ||
  echo "warning: the bundle will need the libraries above on the user's machine" >&2
