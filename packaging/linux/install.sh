#!/bin/sh
# Install PKT Wallet for the current user (no root needed):
#   the program         -> ~/.local/opt/pkt-wallet/
#   the menu entry      -> ~/.local/share/applications/pkt-wallet.desktop
#   the icon            -> ~/.local/share/icons/hicolor/scalable/apps/pkt-wallet.svg
#   the command         -> ~/.local/bin/pkt-wallet (a link)
# Run it from the unpacked archive. Running it again replaces the program (an upgrade); the
# wallets and settings (~/.local/share/pkt-wallet/) are not touched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
opt_dir=$HOME/.local/opt/pkt-wallet
bin_dir=$HOME/.local/bin
apps_dir=$data_home/applications
icon_dir=$data_home/icons/hicolor/scalable/apps

if [ ! -x "$here/pkt-wallet/pkt-wallet" ]; then
    echo "install.sh: run me from the unpacked archive (pkt-wallet/pkt-wallet is missing)" >&2
    exit 1
fi
mkdir -p "$HOME/.local/opt" "$bin_dir" "$apps_dir" "$icon_dir"
rm -rf "$opt_dir.new"
cp -R "$here/pkt-wallet" "$opt_dir.new"
rm -rf "$opt_dir"
mv "$opt_dir.new" "$opt_dir"
ln -sf "$opt_dir/pkt-wallet" "$bin_dir/pkt-wallet"
cp "$here/pkt-wallet.svg" "$icon_dir/pkt-wallet.svg"
sed "s|@BIN@|$opt_dir/pkt-wallet|" "$here/pkt-wallet.desktop" > "$apps_dir/pkt-wallet.desktop"
chmod 644 "$apps_dir/pkt-wallet.desktop"
cp "$here/uninstall.sh" "$opt_dir/uninstall.sh"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps_dir" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data_home/icons/hicolor" 2>/dev/null || true

# The system libraries the window needs (X11/xcb, GL, fonts) that the bundle does not bring.
missing=""
if [ -f "$here/qt-system-libs.sh" ]; then
    missing=$(sh "$here/qt-system-libs.sh" check "$opt_dir") || true
fi

echo "PKT Wallet is installed in $opt_dir"
echo "Start it from the applications menu, or run: $bin_dir/pkt-wallet"
echo "Check the installation: $bin_dir/pkt-wallet --self-test"
echo "Uninstall: $opt_dir/uninstall.sh"
if [ -n "$missing" ]; then
    echo
    echo "BEFORE YOU START IT: the window needs system libraries this computer lacks."
    echo "$missing"
    packages=$(echo "$missing" | sed -n 's/^missing system packages: //p')
    [ -n "$packages" ] && echo "On Debian or Ubuntu install them with: sudo apt-get install $packages"
    exit 3
fi
