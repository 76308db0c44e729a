#!/usr/bin/env node
// The `callhook` command (package.json "bin"): the compiled server in dist/, built by `npm run build` (which
// `npm ci` and `npm pack` run through the `prepare` script), so no TypeScript is compiled at run time.
import '../dist/bin.js';
