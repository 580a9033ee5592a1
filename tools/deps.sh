#!/usr/bin/env bash
# tools/deps.sh - install the Debian packages slipway needs that are missing.
#   tools/deps.sh build   to build slipway
#   tools/deps.sh test    to build and run the whole test suite
#   tools/deps.sh demo    to build and run the demo deployment
#   tools/deps.sh db      to run the database demo (tools/demo-db.sh): PostgreSQL, sqitch, HAProxy
# Nothing is downloaded from anywhere but Debian's package archive.
set -eu
what=${1:-build}
pkgs="gcc meson ninja-build pkg-config libsqlite3-dev libcurl4-openssl-dev libjansson-dev libfyaml-dev libmicrohttpd-dev libssl-dev libsystemd-dev libmurmurhash-dev libpq-dev tzdata"
case "$what" in
  build) ;;
  demo) pkgs="$pkgs haproxy wrk hey python3 curl" ;;
  db) pkgs="$pkgs haproxy hey python3 curl postgresql sqitch libdbd-pg-perl" ;;
  test) pkgs="$pkgs haproxy wrk hey python3 curl clang libclang-rt-14-dev sqlite3 git python3-jsonschema prometheus openssl chromium postgresql sqitch libdbd-pg-perl openssh-server openssh-client rsync iproute2 jq" ;;
  *) echo "usage: tools/deps.sh build|test|demo|db" >&2; exit 2 ;;
esac
# chromium: the headless browser of tests/e2e/dashboard.sh (playwright-core drives it).
# postgresql, sqitch, libdbd-pg-perl: slipway db's engine and the PostgreSQL of tests/e2e/db*.sh.
# the OpenAPI validator of tests/cli/api.sh runs under Node.js with npm: Debian's
# nodejs and npm, unless a Node.js with npm is on the machine already
if [ "$what" = test ] && ! command -v npm >/dev/null 2>&1; then pkgs="$pkgs nodejs npm"; fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
