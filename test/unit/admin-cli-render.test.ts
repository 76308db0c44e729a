/** What people read from the CLI: aligned tables, masked secrets, the check report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from '../../src/admin/cli/table.ts';
import { renderApps, renderCheck, type AppData } from '../../src/admin/cli/render.ts';
import { adminBaseUrl } from '../../src/admin/cli/client.ts';

test('tables align every column on its widest cell; cells stay on one line', () => {
  const out = formatTable<[string, string, string]>(
    [
      { header: 'A', value: (r) => r[0] },
      { header: 'LONGER', value: (r) => r[1] },
      { header: 'LAST', value: (r) => r[2] },
    ],
    [
      ['x', 'y', 'z'],
      ['wide-cell', 'a\r\nb', 'end'],
    ],
  );
  assert.equal(out, ['A          LONGER  LAST', 'x          y       z', 'wide-cell  a b     end'].join('\n'));
});

test('show apps -d masks secrets and never prints them', () => {
  const app: AppData = {
    name: 'shop',
    appKey: 'shopKey',
    url: 'http://h/rest',
    restUsername: 'bob',
    restPasswordSet: true,
    restSecretSet: false,
    signature: 'callhook',
    methods: [],
    restClientConfig: {},
    codecPolicy: null,
  };
  const out = renderApps([app], true, 17);
  assert.match(out, /^restPassword:\s+\*{8}$/m);
  assert.match(out, /^restSecret:\s+-$/m);
  assert.match(out, /^methods:\s+- \(none enabled\)$/m);
  assert.match(out, /^codecPolicy:\s+- \(the configuration's\)$/m);
  assert.match(renderApps([{ ...app, codecPolicy: 'opus-to-browser' }], true, 17), /^codecPolicy:\s+opus-to-browser$/m);
  assert.match(renderApps([app], false, 17), /^shop\s+shopKey\s+0\/17\s+http:\/\/h\/rest$/m);
  assert.match(renderApps([], false, 17), /No apps/);
});

test('the check report puts advice under the detail column and counts failures', () => {
  const out = renderCheck({
    appKey: 'k',
    url: 'http://h/rest',
    ok: false,
    steps: [
      { step: 'dns', ok: true, detail: 'h resolves to 10.0.0.1' },
      { step: 'probe', method: 'connect', ok: false, detail: 'POST → 404', advice: 'add a handler' },
    ],
  });
  const lines = out.split('\n');
  assert.equal(lines[1], '  ok    dns           h resolves to 10.0.0.1');
  assert.equal(lines[2], '  FAIL  POST connect  POST → 404');
  assert.equal(lines[3]!.indexOf('→'), lines[2]!.indexOf('POST →'));
  assert.equal(lines[4], '1 check failed.');
});

test('the CLI reaches a wildcard-bound server through loopback', () => {
  assert.equal(adminBaseUrl({ adminHost: '127.0.0.1', adminPort: 8081 }), 'http://127.0.0.1:8081');
  assert.equal(adminBaseUrl({ adminHost: '0.0.0.0', adminPort: 1 }), 'http://127.0.0.1:1');
  assert.equal(adminBaseUrl({ adminHost: '::', adminPort: 1 }), 'http://[::1]:1');
  assert.equal(adminBaseUrl({ adminHost: 'fe80::1', adminPort: 1 }), 'http://[fe80::1]:1');
});
