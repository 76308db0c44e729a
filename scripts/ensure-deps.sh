#!/bin/sh
# Installs the Debian packages the test suite runs against, when they are missing (non-interactive).
# The packages' own services are never used: each test starts its own instance on free loopback ports
# (test/support/kamailio.ts, test/support/sipp.ts).
#   kamailio    kamailio, kamcmd, and every module test/support/kamailio.cfg loads (db_text, auth, auth_db,
#               usrloc, registrar, ctl, tm, sl, ...: all in this package but tls)
#   kamailio-tls-modules  tls.so, for the SIP over TLS tests (kamailio.cfg's WITH_TLS variant)
#   sip-tester  sipp
#   baresip-core  baresip, the SIP phone of the call tests (test/support/baresip.ts: ausine/aubridge audio, ctrl_tcp)
#   chromium    /usr/bin/chromium, the headless browser that runs the Flashphoner Web SDK (test/support/browser.ts
#               drives it through playwright-core, which downloads no browser of its own)
#   nginx       the TLS reverse proxy of docs/deploy.md, run by test/integration/nginx-proxy.test.ts as a foreground
#               process with its own prefix and configuration (the package's service is not used)
#   janus       Janus 1.1 with its SIP plugin, for the comparison kit's smoke test (test/integration/compare-kit.test.ts:
#               bench/compare/janus.ts runs it from a configuration in a temp dir; the package's service is not used)
#   iproute2    `ip`, which sets up the kit's private network namespace (bench/compare/namespace.ts)
#   postgresql  initdb and postgres for the PostgreSQL store's tests (test/support/postgres.ts: a throwaway cluster
#               in a temp dir on a free port; the package's own cluster and service are not used)
#   haproxy     the WebSocket balancer of docs/scaling.md, run by test/integration/cluster-hosts.test.ts in a
#               network namespace as a foreground process (the package's service is not used); iproute2 (ip netns)
# Asterisk is not a Debian 12 package: scripts/fetch-asterisk.sh unpacks Debian unstable's into a cache directory
# (~/.cache/callhook-test), once; test/support/asterisk.ts runs it from there.
set -eu
cd "$(dirname "$0")/.."

# Every module the cfg loads, the WITH_TLS ones included; tls.so comes from its own package.
modules=$(sed -n 's/^loadmodule "\(.*\)"$/\1/p' test/support/kamailio.cfg)

# Kamailio's compiled-in module directory (Debian: /usr/lib/<multiarch>/kamailio/modules).
module_dir() {
  kamailio -h 2>&1 | sed -n 's/.*Modules search path (default: \(.*\))$/\1/p'
}

missing_modules() {
  dir=$(module_dir)
  for m in $modules; do
    [ -f "$dir/$m" ] || echo "$m"
  done
}

need=""
if ! command -v kamailio >/dev/null 2>&1 || ! command -v kamcmd >/dev/null 2>&1 || [ -n "$(missing_modules | grep -vx tls.so)" ]; then
  need="$need kamailio"
fi
missing_modules | grep -qx tls.so && need="$need kamailio-tls-modules"
command -v sipp >/dev/null 2>&1 || need="$need sip-tester"
command -v baresip >/dev/null 2>&1 || need="$need baresip-core"
[ -x /usr/bin/chromium ] || need="$need chromium"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$need nginx"
[ -x /usr/bin/janus ] || need="$need janus"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
[ -x /usr/sbin/haproxy ] || need="$need haproxy"
command -v ip >/dev/null 2>&1 || need="$need iproute2"

if [ -n "$need" ]; then
  echo "ensure-deps: installing$need"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

still_missing=$(missing_modules)
if [ -n "$still_missing" ]; then
  echo "ensure-deps: Kamailio modules not found in '$(module_dir)':" $still_missing >&2
  exit 1
fi

sh scripts/fetch-asterisk.sh >/dev/null
