/**
 * The callhook admin console (docs/console.md): sign in with the admin token, then one page per part of the admin
 * API, chosen by the URL's fragment (`#/sessions`, `#/timeline/<sessionId>`) so the browser's back button and
 * bookmarks work without any server route.
 */
import { ApiError, request, token, whenUnauthorized } from './api.ts';
import { field, h, replace } from './dom.ts';
import { appsPage, callsPage, cdrPage, eventsPage, hooksPage, overviewPage, sessionsPage, timelinePage, type Page } from './pages.ts';

const PAGES: readonly { path: string; name: string; page: Page }[] = [
  { path: 'overview', name: 'Overview', page: overviewPage },
  { path: 'apps', name: 'Apps', page: appsPage },
  { path: 'sessions', name: 'Sessions', page: sessionsPage },
  { path: 'calls', name: 'Calls', page: callsPage },
  { path: 'hooks', name: 'Hook log', page: hooksPage },
  { path: 'events', name: 'Events', page: eventsPage },
  { path: 'cdr', name: 'CDR', page: cdrPage },
];

const root = document.getElementById('app')!;
let leave: (() => void) | void;

function signIn(message?: string): void {
  leave?.();
  leave = undefined;
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, spellcheck: false });
  const status = h('div', {});
  const form = h(
    'form',
    { class: 'signin', 'aria-label': 'Sign in' },
    h('h1', {}, 'callhook console'),
    h('p', {}, 'The admin token is CALLHOOK_ADMIN_TOKEN, or the file admin-token in the data directory. It stays in this tab only.'),
    field('Admin token', input),
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  if (message) replace(status, h('p', { role: 'alert', class: 'notice failed' }, message));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const candidate = input.value.trim();
    request('/api/overview', {}, candidate).then(
      () => {
        token.set(candidate);
        if (location.hash === '' || location.hash === '#/signin') location.hash = '#/overview';
        else void route();
      },
      (err: unknown) => {
        const text = err instanceof ApiError && err.status === 401 ? `Wrong admin token: ${err.message}` : `Cannot sign in: ${(err as Error).message}`;
        replace(status, h('p', { role: 'alert', class: 'notice failed' }, text));
        input.focus();
      },
    );
  });
  replace(root, h('main', { id: 'main' }, form));
  input.focus();
}

function shell(current: string): HTMLElement {
  const signOut = h('button', { type: 'button', class: 'signout' }, 'Sign out');
  signOut.addEventListener('click', () => {
    token.clear();
    location.hash = '#/signin';
    signIn();
  });
  const main = h('main', { id: 'main', tabindex: -1 });
  replace(
    root,
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h(
      'header',
      {},
      h('span', { class: 'brand' }, 'callhook'),
      h(
        'nav',
        { 'aria-label': 'Console' },
        h('ul', {}, ...PAGES.map((p) => h('li', {}, h('a', { href: `#/${p.path}`, 'aria-current': p.path === current ? 'page' : undefined }, p.name)))),
      ),
      signOut,
    ),
    main,
  );
  return main;
}

async function route(): Promise<void> {
  leave?.();
  leave = undefined;
  if (token.get() === null) return signIn();
  const [path = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const arg = rest.length > 0 ? rest.join('/') : undefined;
  const page = path === 'timeline' ? timelinePage : (PAGES.find((p) => p.path === path)?.page ?? overviewPage);
  const main = shell(path === 'timeline' ? 'sessions' : path);
  replace(main, h('p', { role: 'status' }, 'Loading…'));
  try {
    leave = await page(main, arg);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    replace(main, h('p', { role: 'alert', class: 'notice failed' }, (e as Error).message));
  }
}

whenUnauthorized(() => {
  token.clear();
  signIn('The admin token was refused: sign in again.');
});
window.addEventListener('hashchange', () => void route());
void route();
