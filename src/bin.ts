/**
 * The `callhook` command's process entry: bin/callhook.js runs its compiled form (dist/bin.js), and the tests run
 * this source through tsx (test/support/callhook-cli.ts), so both go through the same lines.
 */
import { runCli } from './admin/cli/main.ts';

const code = await runCli(process.argv.slice(2));
// `start` resolves with undefined: its server keeps the process alive until it is stopped.
if (code !== undefined) process.exitCode = code;
