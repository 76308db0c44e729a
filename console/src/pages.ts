/**
 * The console's pages. Each renders into `main` and may return a function that stops what it started (a live
 * stream, a timer) when the page is left.
 */
import { ApiError, getJson, request, send, stream } from './api.ts';
import { download, field, h, replace, table, time } from './dom.ts';
import { ladder, pngFile, stepLabel, svgFile } from './ladder.ts';
import type { AppView, CallInfo, CallRecord, CheckReport, HookLogEntry, OutboxEvent, Overview, SessionInfo, TimelineStep, TimelineSummary, TimelineView } from './types.ts';

export type Page = (main: HTMLElement, arg: string | undefined) => Promise<(() => void) | void>;

/** A status line read out by screen readers; red when it reports a failure. */
function notice(text: string, failed = false): HTMLElement {
  return h('p', { role: failed ? 'alert' : 'status', class: failed ? 'notice failed' : 'notice' }, text);
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
}

export const timelineHref = (sessionId: string): string => `#/timeline/${encodeURIComponent(sessionId)}`;
const timelineLink = (sessionId: string) => h('a', { href: timelineHref(sessionId) }, 'Timeline');
const clientIp = (sessionId: string): string => /^\/([^/]*):\d+\//.exec(sessionId)?.[1] ?? '';

function searchBox(label: string, onInput: (text: string) => void): HTMLElement {
  const input = h('input', { type: 'search', placeholder: 'app, login, IP, status…' });
  input.addEventListener('input', () => onInput(input.value.trim().toLowerCase()));
  return field(label, input);
}

function matches(text: string, ...values: unknown[]): boolean {
  return text === '' || values.some((v) => String(v ?? '').toLowerCase().includes(text));
}

function kv(title: string, entries: Record<string, number | string>): HTMLElement {
  const items = Object.entries(entries);
  return h(
    'section',
    { class: 'card', 'aria-label': title },
    h('h2', {}, title),
    items.length === 0 ? h('p', { class: 'empty' }, 'None.') : h('dl', {}, ...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
  );
}

function uptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const hh = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return `${d > 0 ? `${d} d ` : ''}${hh} h ${m} min`;
}

// --- Overview --------------------------------------------------------------------------------------------------

function renderOverview(o: Overview): HTMLElement[] {
  const hooks = table(
    `Hook calls per method, last ${o.hooks.windowMinutes} minutes`,
    ['Method', 'Calls', 'Failed', 'Latest failure'],
    o.hooks.methods.map((m) => [m.method, m.total, m.failed > 0 ? h('strong', { class: 'bad' }, String(m.failed)) : '0', m.lastError ?? '']),
    'no hook calls lately.',
  );
  return [
    o.warnings.length === 0
      ? notice('No warnings.')
      : h('section', { class: 'warnings', 'aria-label': 'Warnings' }, h('h2', {}, 'Warnings'), h('ul', {}, ...o.warnings.map((w) => h('li', {}, w)))),
    h(
      'div',
      { class: 'cards' },
      kv('Server', {
        version: o.version,
        uptime: uptime(o.uptimeSec),
        ...Object.fromEntries(Object.entries(o.ports).map(([k, v]) => [`${k} port`, v])),
        ...(o.eventLoopLagMs !== undefined && { 'event loop lag': `${o.eventLoopLagMs} ms` }),
      }),
      kv('Sessions', { live: o.sessions }),
      kv('Registrations', o.registrations),
      kv('Calls', o.calls),
      kv('Outbox', { pending: o.outbox.pending, dead: o.outbox.dead }),
      kv('Media ports', Object.fromEntries(o.mediaPorts.map((p) => [p.range, `${p.used} used, ${p.free} free`]))),
    ),
    hooks,
  ];
}

export const overviewPage: Page = async (main) => {
  const body = h('div', {}, ...renderOverview(await getJson<Overview>('/api/overview')));
  replace(main, h('h1', {}, 'Overview'), h('p', { class: 'hint' }, 'Figures refresh live every 2 s.'), body);
  const stop = new AbortController();
  void stream('/api/stream', (event, data) => {
    if (event === 'overview') replace(body, ...renderOverview(data as Overview));
  }, stop.signal);
  return () => stop.abort();
};

// --- Apps ------------------------------------------------------------------------------------------------------

const WCS_CHOICES =
  'restClientConfig, per method (JSON): restPolicy NOTIFY (send, ignore the answer), OVERWRITE (the answer replaces the fields named in restOverwrite), ' +
  'DISABLE (send nothing); restOnError LOG (go on when the backend fails) or FAIL (refuse); restExclude: fields never sent; clientExclude: fields never shown to the client.';

function appForm(app: AppView | undefined, methods: string[], onDone: (msg: string) => void): HTMLElement {
  const name = h('input', { value: app?.name ?? '', required: true, disabled: app !== undefined });
  const key = h('input', { value: app?.appKey ?? '', required: true });
  const url = h('input', { type: 'url', value: app?.url ?? '', required: true, placeholder: 'http://127.0.0.1:9000/hooks' });
  const user = h('input', { value: app?.restUsername ?? '', autocomplete: 'off' });
  const password = h('input', { type: 'password', autocomplete: 'new-password', placeholder: app?.restPasswordSet ? '(set: leave blank to keep)' : '' });
  const secret = h('input', { type: 'password', autocomplete: 'new-password', placeholder: app?.restSecretSet ? '(set: leave blank to keep)' : '' });
  const signature = h('select', {}, ...['callhook', 'wcs'].map((s) => h('option', { value: s, selected: (app?.signature ?? 'callhook') === s }, s)));
  const config = h('textarea', { rows: 4, spellcheck: false }, app ? JSON.stringify(app.restClientConfig, null, 2) : '{}');
  const boxes = methods.map((m) => h('input', { type: 'checkbox', value: m, checked: app?.methods.includes(m) ?? false }));
  const status = h('div', {});
  const form = h(
    'form',
    { class: 'app-form', 'aria-label': app ? `Edit app ${app.name}` : 'Add app' },
    h('h2', {}, app ? `Edit app ${app.name}` : 'Add app'),
    field('Name', name),
    field('App key', key),
    field('REST URL', url, 'The base URL; each hook is POSTed to <URL>/<method>.'),
    field('REST user name', user),
    field('REST password', password),
    field('Signing secret', secret, 'Signs each request (HMAC); see docs/hooks.md.'),
    field('Signature', signature, 'wcs: also send WCS’s Authorization: WCS <HMAC-MD5>.'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'REST methods'),
      h('div', { class: 'methods' }, ...boxes.map((b) => h('label', {}, b, ` ${b.value}`))),
    ),
    field('restClientConfig', config, WCS_CHOICES),
    h('button', { type: 'submit' }, app ? 'Save app' : 'Add app'),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      try {
        let restClientConfig: unknown;
        try {
          restClientConfig = JSON.parse(config.value || '{}');
        } catch (err) {
          throw new Error(`restClientConfig is not valid JSON: ${(err as Error).message}`);
        }
        const body: Record<string, unknown> = { appKey: key.value.trim(), url: url.value.trim(), signature: signature.value, restClientConfig };
        if (user.value !== '') body['restUsername'] = user.value;
        else if (app?.restUsername) body['restUsername'] = null;
        if (password.value !== '') body['restPassword'] = password.value;
        if (secret.value !== '') body['restSecret'] = secret.value;
        const saved = app
          ? await send<AppView>('PATCH', `/api/apps/${encodeURIComponent(app.name)}`, body)
          : await send<AppView>('POST', '/api/apps', { name: name.value.trim(), ...body });
        for (const b of boxes) {
          const had = saved.methods.includes(b.value);
          if (b.checked !== had) await send(b.checked ? 'PUT' : 'DELETE', `/api/apps/${encodeURIComponent(saved.appKey)}/rest-methods/${b.value}`);
        }
        onDone(app ? `App ${saved.name} saved.` : `App ${saved.name} added.`);
      } catch (err) {
        replace(status, notice(errorText(err), true));
      }
    })();
  });
  return form;
}

function checkReport(report: CheckReport): HTMLElement {
  return h(
    'section',
    { class: 'check', 'aria-label': `Check of app ${report.appKey}` },
    h('h3', {}, `Check app ${report.appKey}: ${report.ok ? 'OK' : 'FAIL'}`, h('small', {}, ` ${report.url}`)),
    h(
      'ol',
      {},
      ...report.steps.map((s) =>
        h(
          'li',
          { class: s.ok ? 'ok' : 'bad' },
          h('strong', {}, s.ok ? 'OK' : 'FAIL'),
          ` ${s.step}${s.method ? ` ${s.method}` : ''}: ${s.detail}`,
          s.advice ? h('p', { class: 'advice' }, `Advice: ${s.advice}`) : null,
        ),
      ),
    ),
  );
}

export const appsPage: Page = async (main) => {
  const [apps, methodList] = await Promise.all([getJson<AppView[]>('/api/apps'), getJson<{ name: string }[]>('/api/rest-methods')]);
  const methods = methodList.map((m) => m.name);
  const status = h('div', {});
  const editor = h('div', {});
  const reload = (msg: string) => {
    void appsPage(main, undefined).then(() => main.querySelector('.page-status')?.replaceChildren(notice(msg)));
  };
  const rows = apps.map((a) => {
    const result = h('div', {});
    const check = h('button', { type: 'button' }, 'Check app');
    check.addEventListener('click', () => {
      replace(result, notice(`Checking ${a.appKey}…`));
      send<CheckReport>('POST', `/api/apps/${encodeURIComponent(a.appKey)}/check`).then(
        (r) => replace(result, checkReport(r)),
        (e: unknown) => replace(result, notice(errorText(e), true)),
      );
    });
    const edit = h('button', { type: 'button' }, 'Edit');
    edit.addEventListener('click', () => replace(editor, appForm(a, methods, reload)));
    const remove = h('button', { type: 'button', class: 'danger' }, 'Remove');
    remove.addEventListener('click', () => {
      send('DELETE', `/api/apps/${encodeURIComponent(a.name)}`).then(
        () => reload(`App ${a.name} removed.`),
        (e: unknown) => replace(status, notice(errorText(e), true)),
      );
    });
    return [a.name, a.appKey, a.url, a.methods.join(', ') || 'none', a.signature, h('div', { class: 'actions' }, check, edit, remove, result)];
  });
  const add = h('button', { type: 'button' }, 'Add app');
  add.addEventListener('click', () => replace(editor, appForm(undefined, methods, reload)));
  replace(
    main,
    h('h1', {}, 'Apps'),
    h('div', { class: 'page-status' }),
    status,
    table('Apps', ['Name', 'Key', 'REST URL', 'Methods', 'Signature', 'Actions'], rows),
    add,
    editor,
  );
};

// --- Sessions and calls ----------------------------------------------------------------------------------------

function terminateButton(what: string, path: string, status: HTMLElement, after: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'danger' }, 'Terminate');
  b.title = `End ${what}`;
  b.addEventListener('click', () => {
    b.disabled = true;
    send('DELETE', path).then(
      () => {
        replace(status, notice(`${what} terminated.`));
        after();
      },
      (e: unknown) => {
        b.disabled = false;
        replace(status, notice(errorText(e), true));
      },
    );
  });
  return b;
}

export const sessionsPage: Page = async (main) => {
  const status = h('div', {});
  const list = h('div', {});
  let query = '';
  const render = async () => {
    const [sessions, timelines] = await Promise.all([getJson<SessionInfo[]>('/api/sessions'), getJson<TimelineSummary[]>('/api/timelines')]);
    const live = sessions.filter((s) => matches(query, s.appKey, s.sipLogin, clientIp(s.sessionId), s.status, s.registration, s.sessionId));
    const ended = timelines.filter((t) => t.endedAt !== null && matches(query, t.appKey, t.sipLogin, clientIp(t.sessionId), t.sessionId));
    replace(
      list,
      table(
        'Live sessions',
        ['Session', 'App', 'Login', 'IP', 'Status', 'Registration', 'Connected', 'Actions'],
        live.map((s) => [
          h('code', {}, s.sessionId), s.appKey, s.sipLogin ?? '—', clientIp(s.sessionId), s.status, s.registration ?? '—', time(s.connectedAt),
          h('div', { class: 'actions' }, timelineLink(s.sessionId), terminateButton(`Session ${s.sessionId}`, `/api/sessions/${encodeURIComponent(s.sessionId)}`, status, () => void render())),
        ]),
      ),
      table(
        'Recently ended sessions',
        ['Session', 'App', 'Login', 'Started', 'Ended', 'Failed steps', 'Actions'],
        ended.map((t) => [h('code', {}, t.sessionId), t.appKey, t.sipLogin ?? '—', time(t.startedAt), time(t.endedAt), t.failedSteps, timelineLink(t.sessionId)]),
      ),
    );
  };
  await render();
  replace(main, h('h1', {}, 'Sessions'), searchBox('Search sessions', (q) => {
    query = q;
    void render();
  }), status, list);
  const timer = setInterval(() => void render().catch(() => undefined), 3000);
  return () => clearInterval(timer);
};

function callDetails(c: CallInfo): HTMLElement {
  const seconds = Math.round((Date.now() - new Date(c.startedAt).getTime()) / 1000);
  return h(
    'details',
    {},
    h('summary', {}, 'Details'),
    h(
      'dl',
      {},
      ...Object.entries({
        'Call ID': c.callId, Session: c.sessionId, Direction: c.incoming ? 'incoming' : 'outgoing', Codec: c.codec ?? '—',
        'Packets to SIP': c.packetsToSip ?? 0, 'Packets to the browser': c.packetsToBrowser ?? 0,
        'RTP port (SIP side)': c.rtpPort ?? '—', 'WebRTC port (browser side)': c.webrtcPort ?? '—', Started: time(c.startedAt), Duration: `${seconds} s`,
      }).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
    ),
  );
}

export const callsPage: Page = async (main) => {
  const status = h('div', {});
  const list = h('div', {});
  let query = '';
  const render = async () => {
    const calls = (await getJson<CallInfo[]>('/api/calls')).filter((c) => matches(query, c.callId, c.caller, c.callee, c.status, clientIp(c.sessionId), c.sessionId));
    replace(
      list,
      table(
        'Live calls',
        ['Call', 'Direction', 'Status', 'Caller', 'Callee', 'Codec', 'Packets to SIP / browser', 'Actions'],
        calls.map((c) => [
          h('code', {}, c.callId), c.incoming ? 'in' : 'out', c.status, c.caller, c.callee, c.codec ?? '—', `${c.packetsToSip ?? 0} / ${c.packetsToBrowser ?? 0}`,
          h('div', { class: 'actions' }, timelineLink(c.sessionId), terminateButton(`Call ${c.callId}`, `/api/calls/${encodeURIComponent(c.callId)}`, status, () => void render()), callDetails(c)),
        ]),
      ),
    );
  };
  await render();
  replace(main, h('h1', {}, 'Calls'), searchBox('Search calls', (q) => {
    query = q;
    void render();
  }), status, list);
  const timer = setInterval(() => void render().catch(() => undefined), 3000);
  return () => clearInterval(timer);
};

// --- Hook log and events ---------------------------------------------------------------------------------------

/** A hook body as the hook log keeps it: JSON indented; a body that is not JSON (an error page, a cut one) as is. */
function bodyText(text: string | null): string {
  if (text === null) return '(none)';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A row's bodies, expanded on demand (the secrets were redacted by the server before they were stored). */
function hookBodies(e: HookLogEntry): HTMLElement | string {
  if (e.requestBody === null && e.responseBody === null) return '';
  return h(
    'details',
    {},
    h('summary', { 'aria-label': `Bodies of ${e.method} at ${time(e.time)}` }, 'Bodies'),
    h('h3', {}, 'Request'),
    h('pre', { tabindex: 0 }, bodyText(e.requestBody)),
    h('h3', {}, 'Response'),
    h('pre', { tabindex: 0 }, bodyText(e.responseBody)),
  );
}

export const hooksPage: Page = async (main) => {
  const [apps, methods] = await Promise.all([getJson<AppView[]>('/api/apps'), getJson<{ name: string }[]>('/api/rest-methods')]);
  const all = (what: string) => h('option', { value: '' }, `all ${what}`);
  const app = h('select', {}, all('apps'), ...apps.map((a) => h('option', { value: a.appKey }, `${a.name} (${a.appKey})`)));
  const method = h('select', {}, all('methods'), ...methods.map((m) => h('option', { value: m.name }, m.name)));
  const outcome = h('select', {}, h('option', { value: '' }, 'all'), h('option', { value: 'false' }, 'succeeded'), h('option', { value: 'true' }, 'failed'));
  const since = h('select', {}, ...[['5m', 'last 5 minutes'], ['1h', 'last hour'], ['1d', 'last day'], ['', 'any time']].map(([v, t]) => h('option', { value: v!, selected: v === '1h' }, t!)));
  const list = h('div', {});
  const render = async () => {
    // Every filter is the server's (GET /api/hooks): the newest 1,000 matching rows, not 1,000 rows then filtered.
    const params = new URLSearchParams({ limit: '1000' });
    for (const [name, input] of [['app', app], ['method', method], ['failed', outcome], ['since', since]] as const) {
      if (input.value !== '') params.set(name, input.value);
    }
    try {
      const rows = await getJson<HookLogEntry[]>(`/api/hooks?${params}`);
      replace(
        list,
        table('Hook requests, newest first', ['Time', 'App', 'Method', 'URL', 'Status', 'Latency', 'Error', 'Bodies'], rows.map((e) => [
          time(e.time), e.appKey, e.method, h('code', {}, e.url), e.status === null ? 'no answer' : String(e.status), `${Math.round(e.latencyMs)} ms`,
          e.error === null ? '' : h('span', { class: 'bad' }, e.error), hookBodies(e),
        ])),
      );
    } catch (e) {
      replace(list, notice(errorText(e), true));
    }
  };
  const form = h('form', { class: 'filters', 'aria-label': 'Filter hook requests' }, field('App', app), field('Method', method), field('Outcome', outcome), field('Time', since), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void render();
  });
  await render();
  replace(main, h('h1', {}, 'Hook log'), h('p', { class: 'hint' }, 'Every hook request with its answer; expand Bodies to see what was sent and received (passwords, tokens and keys redacted).'), form, list);
};

export const eventsPage: Page = async (main) => {
  const status = h('div', {});
  const lists = h('div', {});
  const render = async () => {
    const [pending, dead] = await Promise.all([getJson<OutboxEvent[]>('/api/events?dead=false&limit=500'), getJson<OutboxEvent[]>('/api/events?dead=true&limit=500')]);
    const rows = (events: OutboxEvent[]) =>
      events.map((e) => [time(e.createdAt), e.appKey, e.method, h('code', {}, e.sessionId), e.attempts, e.lastError ?? '', h('details', {}, h('summary', {}, 'Body'), h('pre', {}, JSON.stringify(e.body, null, 2)))]);
    const headers = ['Created', 'App', 'Method', 'Session', 'Attempts', 'Last error', 'Body'];
    replace(lists, table('Pending events', headers, rows(pending)), table('Dead events', headers, rows(dead)));
  };
  const replay = h('button', { type: 'button' }, 'Replay dead events');
  replay.addEventListener('click', () => {
    send<{ replayed: number }>('POST', '/api/events/replay').then(
      (r) => {
        replace(status, notice(`${r.replayed} dead events queued again.`));
        void render();
      },
      (e: unknown) => replace(status, notice(errorText(e), true)),
    );
  });
  await render();
  replace(main, h('h1', {}, 'Events'), h('p', { class: 'hint' }, 'Events wait in the outbox until their backend takes them; dead ones gave up and can be replayed.'), replay, status, lists);
};

// --- CDR -------------------------------------------------------------------------------------------------------

export const cdrPage: Page = async (main) => {
  const app = h('input', { placeholder: 'all apps' });
  const since = h('input', { placeholder: 'e.g. 2h, 7d, 2026-01-31' });
  const search = h('input', { type: 'search', placeholder: 'caller, callee, status…' });
  const status = h('div', {});
  const list = h('div', {});
  const query = (): URLSearchParams => {
    const p = new URLSearchParams({ limit: '1000' });
    if (app.value.trim()) p.set('app', app.value.trim());
    if (since.value.trim()) p.set('since', since.value.trim());
    return p;
  };
  const render = async () => {
    try {
      const q = search.value.trim().toLowerCase();
      const rows = (await getJson<CallRecord[]>(`/api/cdr?${query()}`)).filter((r) => matches(q, r.caller, r.callee, r.status, r.info, r.callId, r.codec));
      replace(
        list,
        table('Call detail records, newest first', ['Started', 'App', 'Direction', 'Caller', 'Callee', 'Duration', 'Status', 'Info', 'Codec', 'Timeline'], rows.map((r) => [
          time(r.startedAt), r.appKey, r.direction, r.caller, r.callee, r.durationMs === null ? '—' : `${Math.round(r.durationMs / 1000)} s`,
          r.status ?? 'open', r.info ?? '', r.codec ?? '—', timelineLink(r.sessionId),
        ])),
      );
    } catch (e) {
      replace(list, notice(errorText(e), true));
    }
  };
  const csv = h('button', { type: 'button' }, 'Export CSV');
  csv.addEventListener('click', () => {
    const p = query();
    p.set('format', 'csv');
    request(`/api/cdr?${p}`).then(
      async (res) => download('callhook-cdr.csv', 'text/csv', await res.text()),
      (e: unknown) => replace(status, notice(errorText(e), true)),
    );
  });
  const form = h('form', { class: 'filters', 'aria-label': 'Filter call detail records' }, field('App', app), field('Since', since), field('Search records', search), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void render();
  });
  await render();
  replace(main, h('h1', {}, 'CDR'), form, csv, status, list);
};

// --- Timeline --------------------------------------------------------------------------------------------------

function stepTable(view: TimelineView, select: (s: TimelineStep) => void): HTMLElement {
  return table('Steps', ['Time', 'Gap', 'Lane', 'Step', 'Detail', 'Raw'], view.timeline.map((s) => {
    const show = h('button', { type: 'button', disabled: s.raw === undefined }, 'Show');
    show.setAttribute('aria-label', `Show raw ${s.label} (step ${s.seq})`);
    show.addEventListener('click', () => select(s));
    return [
      new Date(s.time).toISOString().slice(11, 23), `+${s.gapMs} ms`, `${s.lane} ${s.direction === 'in' ? '→ callhook' : s.direction === 'out' ? '← callhook' : ''}`,
      s.failed ? h('strong', { class: 'bad' }, stepLabel(s)) : stepLabel(s), s.failed ? h('span', { class: 'bad' }, s.detail ?? '') : (s.detail ?? ''),
      s.rawDropped ? 'dropped' : show,
    ];
  }));
}

export const timelinePage: Page = async (main, arg) => {
  const sessionId = decodeURIComponent(arg ?? '');
  const path = `/api/timelines/${encodeURIComponent(sessionId)}`;
  const region = h('section', { role: 'region', 'aria-label': 'Session timeline', class: 'timeline' });
  const raw = h('section', { 'aria-label': 'Raw message', class: 'raw', tabindex: -1 });
  let view: TimelineView;
  let svg: SVGSVGElement;
  const select = (s: TimelineStep) => {
    replace(raw, h('h2', {}, `${s.label}${s.detail ? ` — ${s.detail}` : ''}`), h('pre', { tabindex: 0 }, s.raw ?? (s.rawDropped ? '(dropped: a timeline keeps its newest texts, up to timelineMaxBytes)' : '(nothing recorded)')));
    raw.focus();
  };
  const render = async () => {
    view = await getJson<TimelineView>(path);
    svg = ladder(view, select);
    replace(
      region,
      h('p', {}, `App ${view.appKey}${view.sipLogin ? `, login ${view.sipLogin}` : ''}; started ${time(view.startedAt)}; ${view.endedAt ? `ended ${time(view.endedAt)}` : 'live'}; ${view.timeline.length} steps${view.droppedSteps > 0 ? ` (${view.droppedSteps} older ones dropped)` : ''}, ${view.failedSteps} failed.`),
      h('div', { class: 'scroll ladder', tabindex: 0, 'aria-label': 'Ladder diagram, scrollable' }, svg),
      stepTable(view, select),
    );
  };
  const exportJson = h('button', { type: 'button' }, 'Export JSON');
  exportJson.addEventListener('click', () => download(`timeline-${safeName(sessionId)}.json`, 'application/json', JSON.stringify(view, null, 2)));
  const exportSvg = h('button', { type: 'button' }, 'Export SVG');
  exportSvg.addEventListener('click', () => download(`timeline-${safeName(sessionId)}.svg`, 'image/svg+xml', svgFile(svg)));
  const exportPng = h('button', { type: 'button' }, 'Export PNG');
  const exportStatus = h('div', {});
  exportPng.addEventListener('click', () => {
    pngFile(svg).then(
      (png) => download(`timeline-${safeName(sessionId)}.png`, 'image/png', png),
      (e: unknown) => replace(exportStatus, notice(errorText(e), true)),
    );
  });
  try {
    await render();
  } catch (e) {
    replace(main, h('h1', {}, 'Session timeline'), notice(errorText(e), true));
    return;
  }
  replace(main, h('h1', {}, 'Session timeline'), h('p', {}, h('code', {}, sessionId)), h('div', { class: 'actions' }, exportJson, exportSvg, exportPng), exportStatus, region, raw);
  if (view!.endedAt !== null) return;
  // Live: each new step re-reads the timeline (sorted, gaps computed by the server), at most twice a second.
  const stop = new AbortController();
  let pending: ReturnType<typeof setTimeout> | undefined;
  void stream(`/api/stream?session=${encodeURIComponent(sessionId)}`, (event) => {
    if (event !== 'step' || pending !== undefined) return;
    pending = setTimeout(() => {
      pending = undefined;
      void render().catch(() => undefined);
    }, 500);
  }, stop.signal);
  return () => {
    stop.abort();
    clearTimeout(pending);
  };
};

function safeName(sessionId: string): string {
  return sessionId.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '');
}
