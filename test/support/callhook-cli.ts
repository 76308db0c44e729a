/**
 * How tests run the `callhook` command: the sources (src/bin.ts) through tsx, so a test exercises the code it sits
 * next to, never a dist/ built earlier. The packed, compiled command is tested on its own
 * (test/integration/package.test.ts). tsx is passed as a file URL because a child's working directory is often
 * a scratch directory, where a bare `--import tsx` would not resolve.
 *
 *   spawn(process.execPath, [...CALLHOOK_CLI, 'start'], …)
 */
import { fileURLToPath } from 'node:url';

export const CALLHOOK_CLI: readonly string[] = ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../src/bin.ts', import.meta.url))];
