#!/usr/bin/env bash
# `make package`: the one-dir bundle dist/pkt-wallet/ and the archive
# dist/pkt-wallet-VERSION-linux-ARCH.tar.gz (bundle, .desktop file, icon, install/uninstall).
# Usage: packaging/build-linux.sh [PYTHON]   (default .venv/bin/python, with the package extra)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
version=$("$python" -c 'import app; print(app.__version__)')
name=pkt-wallet-$version
archive=dist/$name-linux-$(uname -m).tar.gz

bash packaging/ensure-build-deps.sh "$python"
"$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pkt-wallet.spec

stage=build/package
rm -rf "$stage"
mkdir -p "$stage/$name"
cp -a dist/pkt-wallet "$stage/$name/"
cp packaging/linux/pkt-wallet.desktop packaging/linux/install.sh packaging/linux/uninstall.sh \
    packaging/linux/qt-system-libs.sh "$stage/$name/"
cp resources/icons/pkt-wallet.svg "$stage/$name/"
tar -C "$stage" -czf "$archive" "$name"
rm -rf "$stage"

echo "bundle:  dist/pkt-wallet/ ($(du -sh dist/pkt-wallet | cut -f1) unpacked)"
echo "archive: $archive ($(du -h "$archive" | cut -f1))"
echo "check:   dist/pkt-wallet/pkt-wallet --self-test"
