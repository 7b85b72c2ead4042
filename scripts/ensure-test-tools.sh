#!/usr/bin/env bash
# The programs the tests drive, from Debian: chromium and a font with Chinese characters for
# the site's browser tests (tests/website), shellcheck and aria2c for hfd/hfd.sh's tests
# (actionlint in tests/test_workflows.py also runs shellcheck on the workflows' scripts).
# Installs only what is missing, so `make test` can run it every time.
set -euo pipefail

CHROMIUM=${EXPLAINLAB_CHROMIUM:-/usr/bin/chromium}
packages=()
[ -x "$CHROMIUM" ] || packages+=(chromium)
# Without a CJK font the Chinese pages render as boxes in the screenshots.
has_cjk_font() {
    if command -v fc-list >/dev/null; then [ -n "$(fc-list :lang=zh)" ]; else
        [[ "$(dpkg-query -W -f='${Status}\n' fonts-wqy-microhei fonts-noto-cjk 2>/dev/null \
            || true)" == *"install ok installed"* ]]; fi
}
has_cjk_font || packages+=(fonts-wqy-microhei)
command -v shellcheck >/dev/null || packages+=(shellcheck)
command -v aria2c >/dev/null || packages+=(aria2)
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "ensure-test-tools: install ${packages[*]} (Debian package names) and run again;" \
         "or set EXPLAINLAB_CHROMIUM to a Chromium binary." >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo -n); else
        echo "ensure-test-tools: root is needed to apt-get install ${packages[*]}." >&2
        exit 1
    fi
fi
echo "ensure-test-tools: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
