#!/bin/sh
# The system libraries Qt's X11 (xcb) platform needs, found by asking the dynamic linker (ldd)
# about the Qt that will actually run, and the Debian/Ubuntu packages that provide them.
#
#   qt-system-libs.sh check   QT_DIR   print the missing packages (one line), exit 1 if any
#   qt-system-libs.sh install QT_DIR   install the missing ones with apt-get (sudo when not
#                                      root), exit 1 if something is still missing
#
# QT_DIR is where Qt lives: a virtualenv's PySide6 directory, or the bundle's pkt-wallet/
# (its _internal/ holds the libraries the bundle brings). Used by `make run` / `make test`
# (tools/ensure-qt-runtime-deps.sh), `make package` and the bundle's install.sh.
#
# The table below was made with ldd on PySide6-Essentials 6.11 in a minimal Debian 12
# (debootstrap --variant=minbase): QtCore, QtGui, QtWidgets, the xcb platform plugin, its GL
# integrations and the SVG icon/image plugins. An unknown missing library is named as such.
set -u

mode=${1:-}
qt_dir=${2:-}
if [ -z "$mode" ] || [ -z "$qt_dir" ] || [ ! -d "$qt_dir" ]; then
    echo "usage: $0 check|install QT_DIR" >&2
    exit 2
fi

package_for() {
    case "$1" in
        libEGL.so.1) echo libegl1 ;;
        libGL.so.1) echo libgl1 ;;
        libX11.so.6) echo libx11-6 ;;
        libX11-xcb.so.1) echo libx11-xcb1 ;;
        libdbus-1.so.3) echo libdbus-1-3 ;;
        libfontconfig.so.1) echo libfontconfig1 ;;
        libfreetype.so.6) echo libfreetype6 ;;
        libglib-2.0.so.0 | libgthread-2.0.so.0) echo libglib2.0-0 ;;
        libxkbcommon.so.0) echo libxkbcommon0 ;;
        libxkbcommon-x11.so.0) echo libxkbcommon-x11-0 ;;
        libxcb.so.1) echo libxcb1 ;;
        libxcb-cursor.so.0) echo libxcb-cursor0 ;;
        libxcb-glx.so.0) echo libxcb-glx0 ;;
        libxcb-icccm.so.4) echo libxcb-icccm4 ;;
        libxcb-image.so.0) echo libxcb-image0 ;;
        libxcb-keysyms.so.1) echo libxcb-keysyms1 ;;
        libxcb-randr.so.0) echo libxcb-randr0 ;;
        libxcb-render.so.0) echo libxcb-render0 ;;
        libxcb-render-util.so.0) echo libxcb-render-util0 ;;
        libxcb-shape.so.0) echo libxcb-shape0 ;;
        libxcb-shm.so.0) echo libxcb-shm0 ;;
        libxcb-sync.so.1) echo libxcb-sync1 ;;
        libxcb-util.so.1) echo libxcb-util1 ;;
        libxcb-xfixes.so.0) echo libxcb-xfixes0 ;;
        libxcb-xkb.so.1) echo libxcb-xkb1 ;;
        libbrotlidec.so.1 | libbrotlicommon.so.1) echo libbrotli1 ;;
        libpng16.so.16) echo libpng16-16 ;;
        libz.so.1) echo zlib1g ;;
        *) return 1 ;;
    esac
}

# The files whose dependencies matter: Qt's core libraries, the Python bindings the app
# imports, the xcb platform plugin and what it loads (GL integrations, SVG, input methods).
qt_files() {
    find "$qt_dir" \( -name 'libQt6Core.so.6' -o -name 'libQt6Gui.so.6' \
        -o -name 'libQt6Widgets.so.6' -o -name 'libQt6XcbQpa.so.6' -o -name 'libQt6Svg.so.6' \
        -o -name 'libQt6DBus.so.6' -o -name 'QtCore.*so' -o -name 'QtGui.*so' \
        -o -name 'QtWidgets.*so' -o -name 'libqxcb.so' -o -name 'libqxcb-*-integration.so' \
        -o -name 'libqsvg.so' -o -name 'libqsvgicon.so' \
        -o -name 'libcomposeplatforminputcontextplugin.so' \) -type f 2>/dev/null
}

# Directories holding Qt's own libraries (and, in the bundle, the libraries it brings).
lib_path() {
    find "$qt_dir" \( -name 'libQt6Core.so.6' -o -name 'libpython3*.so*' \) 2>/dev/null |
        while read -r f; do dirname "$f"; done | sort -u | tr '\n' ':'
}

missing_libraries() {
    path=$(lib_path)
    qt_files | while read -r f; do
        LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:-}" ldd "$f" 2>/dev/null
    done | awk '/=> not found/ { print $1 }' | grep -v '^libQt6' | sort -u
}

has_fonts() {
    for dir in /usr/share/fonts /usr/local/share/fonts "${HOME:-/nonexistent}/.local/share/fonts" \
        "${HOME:-/nonexistent}/.fonts"; do
        if [ -d "$dir" ] && [ -n "$(find "$dir" \( -name '*.ttf' -o -name '*.otf' \
            -o -name '*.pfb' -o -name '*.ttc' \) -print 2>/dev/null | head -n 1)" ]; then
            return 0
        fi
    done
    return 1
}

if ! command -v ldd >/dev/null 2>&1; then
    echo "note: ldd not found; cannot check Qt's system libraries" >&2
    exit 0
fi
if [ -z "$(qt_files | head -n 1)" ]; then
    echo "error: no Qt libraries under $qt_dir" >&2
    exit 2
fi

find_missing() {
    packages=""
    unknown=""
    for lib in $(missing_libraries); do
        if package=$(package_for "$lib"); then
            case " $packages " in *" $package "*) ;; *) packages="$packages $package" ;; esac
        else
            unknown="$unknown $lib"
        fi
    done
    has_fonts || packages="$packages fonts-dejavu-core"
    packages=${packages# }
    unknown=${unknown# }
}

find_missing
if [ -z "$packages" ] && [ -z "$unknown" ]; then
    exit 0
fi

if [ "$mode" = check ]; then
    [ -n "$packages" ] && echo "missing system packages: $packages"
    [ -n "$unknown" ] && echo "missing libraries (no known package): $unknown"
    exit 1
fi

if [ "$mode" != install ]; then
    echo "usage: $0 check|install QT_DIR" >&2
    exit 2
fi
if [ -n "$unknown" ]; then
    echo "error: Qt needs libraries this script does not know the package of: $unknown" >&2
fi
if [ -z "$packages" ]; then
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: the window needs these libraries: $(missing_libraries | tr '\n' ' ')" >&2
    echo "(on Debian/Ubuntu: $packages); install them with your system's package manager" >&2
    exit 1
fi

# Ubuntu 24.04 renamed some libraries (libglib2.0-0 -> libglib2.0-0t64): take what apt knows.
resolved=""
for package in $packages; do
    if ! apt-cache show "$package" >/dev/null 2>&1 && apt-cache show "${package}t64" >/dev/null 2>&1; then
        package="${package}t64"
    fi
    resolved="$resolved $package"
done
resolved=${resolved# }

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "error: the window needs these system packages: $resolved" >&2
        echo "install them as root: apt-get install $resolved" >&2
        exit 1
    fi
    sudo_cmd="sudo"
    echo "The window needs these system packages: $resolved"
    echo "Installing them with sudo (your password may be asked):"
fi
echo "apt-get install $resolved"
if ! { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $resolved >/dev/null; }; then
    echo "error: could not install $resolved; install them and try again" >&2
    exit 1
fi
find_missing
if [ -n "$packages" ] || [ -n "$unknown" ]; then
    echo "error: still missing after the install: $packages $unknown" >&2
    exit 1
fi
echo "installed: $resolved"
