#!/bin/sh
# The README's test command (`npm test`): installs the peers the suite needs, then runs every test file with
# node:test through tsx, in lanes side by side (scripts/run-tests.mjs: one lane per heavy peer such as Chromium).
# Each integration test starts and stops its own peers (Kamailio, sipp, HTTP backends).
# Before the tests: the type check, and the lint for promises nobody handles (eslint.config.js).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh
npx tsc --noEmit
npx eslint src
exec node scripts/run-tests.mjs "$@"
