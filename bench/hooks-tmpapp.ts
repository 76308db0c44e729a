import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.ts';
const store = openStore({ dataDir: mkdtempSync(join(tmpdir(), 'cb-')), adminPort: 1 });
const ts: number[] = []; const N = 30000; const t0 = performance.now();
for (let i = 0; i < N; i++) { const a = performance.now(); store.outbox.append({ eventId: `e${i}`, appKey: 'b', sessionId: `/198.51.100.${i % 1000}:40000/192.0.2.1:8443`, method: 'CallStatusEvent', body: { nodeId: 'n', appKey: 'b', callId: 'call-1', status: 'ESTABLISHED', info: 'Normal call clearing', caller: 'alice', callee: '100', hasAudio: true, eventId: 'b1f3c0de-0000-4000-8000-000000000001' }, failNotify: false, createdAt: Date.now() }); ts.push(performance.now() - a); }
const tot = performance.now() - t0; ts.sort((a, b) => a - b);
const big = ts.filter((x) => x > 1); 
console.log('per append us: p50', (ts[N / 2]! * 1000).toFixed(0), 'p99', (ts[Math.floor(N * 0.99)]! * 1000).toFixed(0), 'max ms', ts[N - 1]!.toFixed(1), 'avg us', (tot / N * 1000).toFixed(0), '>1ms count', big.length, 'sum of >1ms', big.reduce((a, b) => a + b, 0).toFixed(0), 'ms of', tot.toFixed(0));
