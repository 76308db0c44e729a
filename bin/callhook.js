#!/usr/bin/env node
// The `callhook` command (package.json "bin"). The sources are TypeScript run through tsx, a dependency of the
// package, so this works the same from the repository, `npx callhook` and a global install: tsx is resolved from
// this package's own node_modules, not from the caller's directory.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/admin/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// `start` resolves with undefined: its server keeps the process alive until it is stopped.
if (code !== undefined) process.exitCode = code;
