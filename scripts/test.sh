#!/bin/sh
# The README's test command (`npm test`): installs the peers the suite needs, then runs every test file with
# node:test through tsx. Each integration test starts and stops its own peers (Kamailio, sipp, HTTP backends).
# Before the tests: the type check, and the lint for promises nobody handles (eslint.config.js).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh
npx tsc --noEmit
npx eslint src
files=$(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 "$@" $files
