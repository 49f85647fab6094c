#!/bin/sh
# Add smsdesk to this user's application menu (run from the unpacked smsdesk folder):
#     ./install-desktop-entry.sh            install the menu entry and icons for this user
#     ./install-desktop-entry.sh --remove   take them away again (the folder stays)
# Nothing needs root: files go to ~/.local/share (XDG_DATA_HOME). The entry starts this
# folder's smsdesk-gui, so move the folder first if you want it somewhere else.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"

if [ "${1:-}" = "--remove" ]; then
    rm -f "$APPS/smsdesk.desktop" "$DATA/metainfo/io.smsdesk.smsdesk.metainfo.xml"
    find "$ICONS" -name smsdesk.png -o -name smsdesk.svg 2>/dev/null | xargs -r rm -f
    echo "smsdesk menu entry removed."
    exit 0
fi

mkdir -p "$APPS" "$DATA/metainfo" "$ICONS"
# Absolute paths: the folder is not on PATH.
sed -e "s|^Exec=.*|Exec=\"$HERE/smsdesk-gui\"|" -e "s|^TryExec=.*|TryExec=$HERE/smsdesk-gui|" \
    "$HERE/share/applications/smsdesk.desktop" > "$APPS/smsdesk.desktop"
cp "$HERE/share/metainfo/io.smsdesk.smsdesk.metainfo.xml" "$DATA/metainfo/"
cp -r "$HERE/share/icons/hicolor/." "$ICONS/"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$APPS" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$ICONS" || true
echo "smsdesk is in your application menu (starts $HERE/smsdesk-gui)."
