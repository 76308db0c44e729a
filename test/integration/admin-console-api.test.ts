/**
 * What the admin API adds for the console (docs/console.md, docs/admin.md): the live-update stream (Server-Sent
 * Events with the overview and a session's new timeline steps, capped by adminMaxEventStreams, ended with the
 * server), the timeline of a session refused at connect, and terminate routes that name what they did not find.
 * A real in-process server and a real WebSocket client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKamailio } from '../support/kamailio.ts';
import { restApi } from '../support/rest-api.ts';
import { TestClient, eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

interface SseEvent {
  event: string;
  data: unknown;
}

/** Opens `GET path` and collects its Server-Sent Events. */
async function openStream(ts: TestServer, path: string): Promise<{ events: SseEvent[]; status: number; headers: Headers; abort(): void; ended: Promise<void> }> {
  const control = new AbortController();
  const res = await fetch(`${ts.server.adminUrl}${path}`, { headers: { authorization: `Bearer ${ts.server.adminToken}` }, signal: control.signal });
  const events: SseEvent[] = [];
  const ended = (async () => {
    if (!res.ok || res.body === null) return;
    let buffer = '';
    try {
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, status: res.status, headers: res.headers, abort: () => control.abort(), ended };
}

describe('admin API for the console', { timeout: 60_000 }, () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ adminMaxEventStreams: 1 });
  });
  after(async () => {
    await ts?.stop();
  });

  it('the stream sends the overview at once, then the new steps of the session asked for; one over the cap gets 503', async () => {
    const ws = await TestClient.open(ts.wsUrl);
    const sessionId = `/127.0.0.1:${ws.localPort}/127.0.0.1:${ts.server.wsPort}`;
    const stream = await openStream(ts, `/api/stream?session=${encodeURIComponent(sessionId)}`);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
      await eventually(() => stream.events.some((e) => e.event === 'overview'), 5000, 'the first overview');
      const overview = stream.events.find((e) => e.event === 'overview')!.data as { version: string; sessions: number; warnings: string[] };
      assert.equal(typeof overview.version, 'string');
      assert.ok(Array.isArray(overview.warnings));

      const second = await fetch(`${ts.server.adminUrl}/api/stream`, { headers: { authorization: `Bearer ${ts.server.adminToken}` } });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '5');
      assert.match(((await second.json()) as { error: string }).error, /adminMaxEventStreams/);

      ws.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
      await ws.expect('getUserData', 5000);
      await eventually(() => stream.events.filter((e) => e.event === 'step').length >= 2, 5000, 'the step events');
      const labels = stream.events.filter((e) => e.event === 'step').map((e) => (e.data as { sessionId: string; step: { label: string } }));
      assert.ok(labels.every((s) => s.sessionId === sessionId));
      assert.deepEqual(labels.slice(0, 1).map((s) => s.step.label), ['connection']);
      assert.ok(labels.some((s) => s.step.label === 'getUserData'), JSON.stringify(labels));
    } finally {
      stream.abort();
      await stream.ended;
      ws.ws.close();
    }
  });

  it('timelines and terminate name what they did not find', async () => {
    const headers = { authorization: `Bearer ${ts.server.adminToken}` };
    const missing = await fetch(`${ts.server.adminUrl}/api/timelines/${encodeURIComponent('/10.0.0.1:1/10.0.0.2:2')}`, { headers });
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /no timeline for session \/10\.0\.0\.1:1\/10\.0\.0\.2:2/);
    const call = await fetch(`${ts.server.adminUrl}/api/calls/nope`, { method: 'DELETE', headers });
    assert.equal(call.status, 404);
    assert.equal(((await call.json()) as { error: string }).error, 'no live call nope');
    const session = await fetch(`${ts.server.adminUrl}/api/sessions/${encodeURIComponent('/1.2.3.4:5/6.7.8.9:10')}`, { method: 'DELETE', headers });
    assert.equal(session.status, 404);
  });

  it('terminating a session closes its client, with the cause as the close reason, and ends it; its timeline is kept with the end', async () => {
    const ws = await TestClient.open(ts.wsUrl);
    ws.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
    await ws.expect('getUserData', 5000);
    const sessionId = `/127.0.0.1:${ws.localPort}/127.0.0.1:${ts.server.wsPort}`;
    const headers = { authorization: `Bearer ${ts.server.adminToken}` };
    const res = await fetch(`${ts.server.adminUrl}/api/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', headers });
    assert.equal(res.status, 200);
    const fail = await ws.expect('fail', 5000);
    assert.deepEqual([fail['apiMethod'], fail['info']], ['ConnectionStatusEvent', 'Terminated by the administrator']);
    assert.deepEqual(await ws.closed, { code: 1008, reason: 'Terminated by the administrator' });
    await eventually(() => ts.server.gateway.sessionCount === 0, 5000, 'the session to end');
    await eventually(async () => {
      const t = (await (await fetch(`${ts.server.adminUrl}/api/timelines/${encodeURIComponent(sessionId)}`, { headers })).json()) as { endedAt: string | null };
      return t.endedAt !== null;
    }, 5000, 'the timeline to end');
  });

  it('the REST API ending a session: the close reason is "Terminated by API"', async () => {
    const ws = await TestClient.open(ts.wsUrl);
    ws.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
    await ws.expect('getUserData', 5000);
    const sessionId = `/127.0.0.1:${ws.localPort}/127.0.0.1:${ts.server.wsPort}`;
    assert.equal((await restApi(ts.server)('/rest-api/connection/terminate', { sessionId })).status, 200);
    assert.deepEqual(await ws.closed, { code: 1008, reason: 'Terminated by API' });
  });

  it('a refused connect: the close reason is the refusal, cut to the 123 bytes a close frame holds', async () => {
    const ws = await TestClient.open(ts.wsUrl);
    // 2-byte characters: the cut must not split one.
    const appKey = 'é'.repeat(100);
    ws.send('connection', { appKey });
    assert.equal((await ws.expect('fail', 5000))['info'], `unknown appKey "${appKey}"`);
    const { code, reason } = await ws.closed;
    assert.equal(code, 1008);
    assert.equal(reason, `unknown appKey "${'é'.repeat(52)}...`);
    assert.ok(Buffer.byteLength(reason) <= 123);
  });

  it('an open stream does not hold the server when it stops', async () => {
    const stream = await openStream(ts, '/api/stream');
    assert.equal(stream.status, 200);
    const started = Date.now();
    await ts.stop();
    await stream.ended;
    assert.ok(Date.now() - started < 10_000, 'stopped promptly');
    ts = await startTestServer();
  });
});

describe('a registered session\'s timeline through its refreshes', { timeout: 60_000 }, () => {
  it('stays bounded: alike refresh rounds fold into the latest with a count, the oldest texts go past timelineMaxBytes', async () => {
    const kamailio = await startKamailio({ users: [{ username: 'alice', password: 'alice-secret-1' }], minExpires: 1 });
    // A 2 s registration is refreshed every second; 4000 bytes hold the latest round's texts, not the first's too.
    const ts = await startTestServer({ registerExpires: 2, timelineMaxBytes: 4000 });
    const ws = await TestClient.open(ts.wsUrl);
    try {
      ws.send('connection', {
        appKey: 'defaultApp', sipLogin: 'alice', sipPassword: 'alice-secret-1', sipDomain: kamailio.domain,
        sipOutboundProxy: kamailio.host, sipPort: String(kamailio.port), sipRegisterRequired: true,
      });
      await ws.expect('getUserData', 10_000);
      await ws.expect('registered', 10_000);
      const sessionId = `/127.0.0.1:${ws.localPort}/127.0.0.1:${ts.server.wsPort}`;
      const headers = { authorization: `Bearer ${ts.server.adminToken}` };
      const timeline = async () =>
        (await (await fetch(`${ts.server.adminUrl}/api/timelines/${encodeURIComponent(sessionId)}`, { headers })).json()) as {
          timeline: { label: string; lane: string; detail?: string; raw?: string; rawDropped?: boolean; repeats?: { count: number; since: string } }[];
        };
      let view = await timeline();
      const firstSip = view.timeline.filter((s) => s.lane === 'sip').length;
      await eventually(async () => {
        view = await timeline();
        return view.timeline.some((s) => (s.repeats?.count ?? 0) >= 4);
      }, 20_000, 'four alike refresh rounds folded into one');
      const sip = view.timeline.filter((s) => s.lane === 'sip');
      const latest = sip.findIndex((s) => s.repeats !== undefined);
      // The first registration whole, then the latest round and (while the next one is under way) its successor.
      assert.equal(latest, firstSip, JSON.stringify(sip.map((s) => s.label)));
      assert.ok(sip.length <= 3 * firstSip, `${sip.length} SIP steps after ${sip[latest]!.repeats!.count + 1} registrations`);
      assert.equal(sip[latest]!.label, 'REGISTER');
      assert.match(sip[latest]!.detail!, /^REGISTER sip:\S+ \(Expires 2\)$/);
      assert.match(sip.at(-1)!.raw ?? '', /^(REGISTER|SIP\/2\.0)/, 'the newest text kept');
      assert.ok(sip[0]!.rawDropped === true && sip[0]!.raw === undefined, 'the first REGISTER\'s text let go first');
      const kept = view.timeline.reduce((n, s) => n + (s.raw === undefined ? 0 : 1), 0);
      assert.ok(kept > 0 && view.timeline.some((s) => s.rawDropped === true), `${kept} texts kept`);
    } finally {
      ws.ws.close();
      await ts.stop();
      await kamailio.stop();
    }
  });
});
