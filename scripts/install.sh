#!/usr/bin/env bash
# Installs LiveGate into ./.venv (or $LIVEGATE_VENV). Safe to run again.
#   scripts/install.sh          the gateway
#   scripts/install.sh --test   the gateway and what its tests need (chromium, a CJK font)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LIVEGATE_VENV:-.venv}
PY=${PYTHON:-python3}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_pkgs=()
# A CJK font renders the synthetic ID cards (fixtures) and the OCR tests.
fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || apt_pkgs+=(fonts-wqy-zenhei)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null || apt_pkgs+=(chromium chromium-driver)
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${apt_pkgs[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  else
    echo "warning: please install ${apt_pkgs[*]} (needs root)" >&2
  fi
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/pip --disable-pip-version-check -q"
$PIP install "setuptools<81" wheel
# dlib-bin first, then face-recognition without its source-only `dlib` requirement.
$PIP install "dlib-bin>=19.24"
$PIP install --no-deps "face-recognition==1.3.0"
if [ "$want_test" = 1 ]; then
  $PIP install -e ".[test]"
else
  $PIP install -e .
fi
echo "installed into $VENV"
