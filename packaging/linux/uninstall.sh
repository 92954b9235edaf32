#!/bin/sh
# Remove what install.sh put in place. Wallets and settings are kept: they live in
# ~/.local/share/pkt-wallet/ (one folder per network); delete that folder yourself only after
# you have the seed words of every wallet in it.
set -eu
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
opt_dir=$HOME/.local/opt/pkt-wallet
link=$HOME/.local/bin/pkt-wallet

if [ -L "$link" ] && [ "$(readlink "$link")" = "$opt_dir/pkt-wallet" ]; then
    rm -f "$link"
fi
rm -f "$data_home/applications/pkt-wallet.desktop"
rm -f "$data_home/icons/hicolor/scalable/apps/pkt-wallet.svg"
rm -rf "$opt_dir"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data_home/applications" || true

echo "PKT Wallet is uninstalled."
echo "Your wallets and settings are still in $data_home/pkt-wallet/ (not removed)."
