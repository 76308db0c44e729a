#!/bin/sh
# Installs the Debian packages the test suite runs against, when they are missing (non-interactive).
# The packages' own services are never used: each test starts its own instance on free loopback ports.
set -eu
need=""
command -v kamailio >/dev/null 2>&1 || need="$need kamailio"
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/db_text.so ] || [ -f /usr/lib/kamailio/modules/db_text.so ] || need="$need kamailio"
command -v kamcmd >/dev/null 2>&1 || need="$need kamailio"
command -v sipp >/dev/null 2>&1 || need="$need sip-tester"
need=$(echo "$need" | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ -n "$(echo "$need" | tr -d ' ')" ]; then
  echo "ensure-deps: installing$need"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
