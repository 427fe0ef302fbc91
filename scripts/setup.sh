#!/usr/bin/env bash
# Installs the station into ./.venv from this repository's own files.
#   bash scripts/setup.sh         runtime: the station and what Qt needs on a screen
#   bash scripts/setup.sh test    plus the test extras and the system packages the tests use
# System packages come from Debian's apt when run as root (or with sudo); nothing is
# downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

# What Qt's xcb platform plugin loads on a bare Debian 12 (offscreen needs none of it).
# (every library `ldd` lists for libqxcb.so, libQt6XcbQpa, libQt6Gui and libQt6Widgets)
apt_pkgs=(libxcb1 libx11-6 libx11-xcb1 libxcb-cursor0 libxkbcommon0 libxkbcommon-x11-0
          libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render0 libxcb-render-util0
          libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
          libxcb-randr0 libegl1 libgl1 libfontconfig1 libfreetype6 fonts-dejavu-core
          libdbus-1-3 libglib2.0-0)
if [ "$mode" = "test" ]; then
  # Xvfb for screenshots; the Aravis fake GigE Vision camera and the headers PyGObject builds on.
  apt_pkgs+=(xvfb aravis-tools gir1.2-aravis-0.8 libgirepository1.0-dev libcairo2-dev pkg-config)
  # A real PostgreSQL server for the central-database tests (they run initdb in a temp folder).
  apt_pkgs+=(postgresql)
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null && { [ -z "$sudo" ] || command -v sudo >/dev/null; }; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: cannot install system packages ${missing[*]} (no apt-get/sudo); continuing" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = "test" ]; then
  .venv/bin/python -m pip install -q -e ".[test,gige,pylon,central,plc]"
else
  .venv/bin/python -m pip install -q -e .
fi
