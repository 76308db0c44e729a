#!/bin/sh
# Start-up cost of the `callhook` command (docs/benchmarks.md): `callhook --help` wall time (10 runs), then 5 runs
# of `callhook start` in a scratch directory on loopback ports 0: the time until it logs "callhook started", and its
# resident set size (VmRSS from /proc, Linux) 3 s later, idle.
#
#   sh bench/startup.sh [BIN]      BIN defaults to bin/callhook.js
#
# The server runs with NODE_ARGS (default: `npm start`'s --max-semi-space-size=2; NODE_ARGS= for Node's defaults)
# and `npm start`'s malloc thresholds (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_; GLIBC_MALLOC_DEFAULTS=1 for
# glibc's own).
set -eu
BIN=$(realpath "${1:-bin/callhook.js}")
NODE_ARGS=${NODE_ARGS---max-semi-space-size=2}
[ -n "${GLIBC_MALLOC_DEFAULTS-}" ] || export MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
ms() { echo $(( $(date +%s%N) / 1000000 )); }

printf 'callhook --help, ms:'
for _ in 1 2 3 4 5 6 7 8 9 10; do
  s=$(ms); node "$BIN" --help >/dev/null; printf ' %s' $(( $(ms) - s ))
done
echo

echo "callhook start (node $NODE_ARGS, MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_-glibc's}): ms to \"callhook started\", idle RSS MiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in 1 2 3 4 5; do
  dir=$(mktemp -d)
  s=$(ms)
  (cd "$dir" && CALLHOOK_ADMIN_TOKEN=bench CALLHOOK_ADMIN_PORT=0 CALLHOOK_WS_PORT=0 CALLHOOK_WS_HOST=127.0.0.1 \
    CALLHOOK_SIP_PORT=0 CALLHOOK_LOCAL_IP=127.0.0.1 exec node $NODE_ARGS "$BIN" start >log 2>&1) &
  pid=$!
  n=0
  until grep -q '"callhook started"' "$dir/log" 2>/dev/null; do
    n=$((n + 1)); [ $n -le 3000 ] || { echo "no start line:"; cat "$dir/log"; kill $pid; exit 1; }
    sleep 0.01
  done
  started=$(( $(ms) - s ))
  sleep 3
  echo "$started ms, $(awk '/VmRSS/ { print int($2 / 1024) }' /proc/$pid/status) MiB"
  kill $pid; wait $pid || true
  rm -rf "$dir"
done
