#!/bin/sh
# Check that the Debian packages smx needs are installed; install them with apt-get when
# running as root, otherwise print the exact command and fail.
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
else
  # not Debian: trust pkg-config
  pkg-config --exists gsl mpfr || { echo "smx: GSL and MPFR development files not found (pkg-config gsl mpfr)" >&2; exit 1; }
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "smx: installing missing packages:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing >/dev/null || exit 1
else
  echo "smx: missing packages:$missing" >&2
  echo "smx: run: sudo apt-get install -y$missing" >&2
  exit 1
fi
