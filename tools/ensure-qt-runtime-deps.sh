#!/usr/bin/env bash
# `make run` / `make test`: the system libraries Qt's window needs (X11/xcb, GL, fonts), installed
# with apt-get when missing. Usage: tools/ensure-qt-runtime-deps.sh PYTHON (the venv's python).
# Which ones are needed is worked out by packaging/linux/qt-system-libs.sh with ldd on the
# installed PySide6. Linux only; elsewhere Qt brings what it needs.
set -euo pipefail
python=${1:-.venv/bin/python}
[ "$(uname -s)" = Linux ] || exit 0
qt_dir=$("$python" -c 'import os, PySide6; print(os.path.dirname(PySide6.__file__))')
exec sh "$(dirname "$0")/../packaging/linux/qt-system-libs.sh" install "$qt_dir"
