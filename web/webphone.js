// @ts-check
/// <reference path="../sdk/dist/callhook.global.d.ts" />
/**
 * callhook's web phone: the page at `/` (web/index.html), built on the SDK's script-tag bundle (`/callhook.js`,
 * the global `Callhook`; sdk/README.md). Plain browser JavaScript, served as is; `web/tsconfig.json` type-checks it
 * against the SDK's declarations.
 *
 * One call at a time, plus one incoming call ringing in the banner. Every status change and failure goes to the
 * Event log with the server's reason, in the words of the WCS events (`RegistrationStatusEvent FAILED: SIP 403
 * Forbidden`). Everything the server or a peer sends is shown with textContent, never parsed as HTML.
 *
 * For tests and for the curious, `window.webphone` holds the session, the current (or last) call and the
 * ringing one: `webphone.call.getStats()`, `webphone.call.peerConnection`.
 */

/** @typedef {import('../sdk/dist/callhook.mjs').Session} Session */
/** @typedef {import('../sdk/dist/callhook.mjs').Call} Call */
/** @typedef {import('../sdk/dist/callhook.mjs').CallStatus} CallStatus */
/** @typedef {import('../sdk/dist/callhook.mjs').ConnectionStatus} ConnectionStatus */
/** @typedef {import('../sdk/dist/callhook.mjs').RegistrationStatus} RegistrationStatus */
/** @typedef {import('../sdk/dist/callhook.mjs').MessageStatus} MessageStatus */
/** @typedef {import('../sdk/dist/callhook.mjs').ConnectOptions} ConnectOptions */

/**
 * The form fields remembered in localStorage, by element id. The password and the token are credentials and are
 * never stored.
 * @type {ReadonlyArray<string>}
 */
const REMEMBERED_FIELDS = ['server-url', 'sip-login', 'auth-name', 'domain', 'outbound-proxy', 'port', 'app-key', 'register'];
const STORAGE_KEY = 'callhook.webphone';
/** Entries kept in each log: a phone left open for days must not grow without bound. */
const LOG_LIMIT = 500;

/**
 * The element with `id`, checked to be of `type`: a page edited out of step with this script fails at once, by name.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T; prototype: T }} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`web phone: #${id} is missing or is not a ${type.name}`);
  return found;
}

const ui = {
  connectForm: element('connect-form', HTMLFormElement),
  accountFields: element('account-fields', HTMLFieldSetElement),
  accountSummary: element('account-summary', HTMLParagraphElement),
  accountProblem: element('account-problem', HTMLParagraphElement),
  url: element('server-url', HTMLInputElement),
  login: element('sip-login', HTMLInputElement),
  authName: element('auth-name', HTMLInputElement),
  password: element('password', HTMLInputElement),
  domain: element('domain', HTMLInputElement),
  outboundProxy: element('outbound-proxy', HTMLInputElement),
  port: element('port', HTMLInputElement),
  register: element('register', HTMLInputElement),
  appKey: element('app-key', HTMLInputElement),
  token: element('token', HTMLInputElement),
  connect: element('connect', HTMLButtonElement),
  disconnect: element('disconnect', HTMLButtonElement),
  connectionStatus: element('connection-status', HTMLOutputElement),
  registrationStatus: element('registration-status', HTMLOutputElement),
  incoming: element('incoming', HTMLDivElement),
  incomingCaller: element('incoming-caller', HTMLParagraphElement),
  answer: element('answer', HTMLButtonElement),
  decline: element('decline', HTMLButtonElement),
  callForm: element('call-form', HTMLFormElement),
  callee: element('callee', HTMLInputElement),
  call: element('call', HTMLButtonElement),
  callStatus: element('call-status', HTMLOutputElement),
  callTimer: element('call-timer', HTMLSpanElement),
  callPeer: element('call-peer', HTMLParagraphElement),
  hangup: element('hangup', HTMLButtonElement),
  hold: element('hold', HTMLButtonElement),
  unhold: element('unhold', HTMLButtonElement),
  mute: element('mute', HTMLButtonElement),
  unmute: element('unmute', HTMLButtonElement),
  dialpad: element('dialpad', HTMLDivElement),
  transferForm: element('transfer-form', HTMLFormElement),
  transferTo: element('transfer-to', HTMLInputElement),
  transfer: element('transfer', HTMLButtonElement),
  remoteAudio: element('remote-audio', HTMLAudioElement),
  messages: element('messages', HTMLOListElement),
  messageForm: element('message-form', HTMLFormElement),
  messageTo: element('message-to', HTMLInputElement),
  message: element('message', HTMLTextAreaElement),
  send: element('send', HTMLButtonElement),
  eventLog: element('event-log', HTMLOListElement),
};

/** @type {Session | undefined} */
let session;
/** @type {ConnectionStatus} */
let connection = 'DISCONNECTED';
/** The registration failed: the Account card says why and opens its form again, so the account can be fixed. */
let registrationFailed = false;
/** The call in the call pane: the one being placed or talked on, or the last one (its final status stays shown). */
/** @type {Call | undefined} */
let call;
/** An incoming call shown in the banner, not answered yet. */
/** @type {Call | undefined} */
let ringing;
/**
 * This side put `call` on hold (Hold pressed, Unhold not yet). HOLD alone does not say who holds: a call the far
 * end holds is HOLD too, and then this side has nothing to resume, so it is offered Hold, not Unhold.
 */
let heldHere = false;
/** When `call` was first ESTABLISHED (Date.now()), for the timer. */
/** @type {number | undefined} */
let answeredAt;
/** @type {ReturnType<typeof setInterval> | undefined} */
let timer;
/** Sent messages' entries in the Messages log, by message id. */
/** @type {Map<string, HTMLLIElement>} */
const sentMessages = new Map();
let messageSeq = 0;

// ------------------------------------------------------------------------------------------------------ event log

/**
 * Adds a line to the Event log (newest last).
 * @param {string} text
 * @param {boolean} [bad] a failure: shown in red
 */
function log(text, bad = false) {
  const entry = document.createElement('li');
  const now = new Date();
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour12: false });
  entry.append(time, ' ', text);
  if (bad) entry.className = 'bad';
  appendBounded(ui.eventLog, entry);
}

/**
 * `<name> <status>: <info>`, the way the Event log states every change.
 * @param {string} name
 * @param {string} status
 * @param {string | undefined} info
 */
function change(name, status, info) {
  return info === undefined || info === '' ? `${name} ${status}` : `${name} ${status}: ${info}`;
}

/**
 * @param {HTMLOListElement} list
 * @param {HTMLLIElement} entry
 */
function appendBounded(list, entry) {
  list.append(entry);
  while (list.childElementCount > LOG_LIMIT) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
}

/**
 * A refusal as one Event log line, `<apiMethod>: <info>`. The server's own refusals already start with the message
 * they refuse (`sendDtmf: the SIP peer did not negotiate telephone-event`, docs/client-protocol.md); a backend's
 * reason does not (`Not allowed`). Either reads once.
 * @param {{ apiMethod: string, info: string }} w
 */
function refusalText(w) {
  return w.info.startsWith(`${w.apiMethod}: `) ? w.info : `${w.apiMethod}: ${w.info}`;
}

/**
 * The reason in an error: the SDK's CallhookError carries the server's own words in `info`.
 * @param {unknown} err
 * @returns {{ code: string | undefined, info: string }}
 */
function reason(err) {
  if (err instanceof Callhook.CallhookError) return { code: err.code, info: err.info };
  return { code: undefined, info: err instanceof Error ? err.message : String(err) };
}

// ----------------------------------------------------------------------------------------------------- settings

/** Fills the form from localStorage, else with this server's address and the defaults. */
function restoreSettings() {
  ui.url.value = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  ui.appKey.value = Callhook.DEFAULT_APP_KEY;
  /** @type {Record<string, unknown>} */
  let saved = {};
  try {
    const parsed = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}');
    if (typeof parsed === 'object' && parsed !== null) saved = parsed;
  } catch {
    // No storage (private mode, blocked) or a damaged entry: start from the defaults.
  }
  for (const id of REMEMBERED_FIELDS) {
    const input = element(id, HTMLInputElement);
    const value = saved[id];
    if (input.type === 'checkbox' && typeof value === 'boolean') input.checked = value;
    else if (input.type !== 'checkbox' && typeof value === 'string') input.value = value;
  }
}

function saveSettings() {
  /** @type {Record<string, string | boolean>} */
  const settings = {};
  for (const id of REMEMBERED_FIELDS) {
    const input = element(id, HTMLInputElement);
    settings[id] = input.type === 'checkbox' ? input.checked : input.value;
  }
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or blocked: the phone works, it just will not remember.
  }
}

// --------------------------------------------------------------------------------------------------- connection

/**
 * A text field's value, or undefined when empty: an empty field is not sent, so a backend's connect hook may
 * supply it.
 * @param {HTMLInputElement} input
 */
function optional(input) {
  const value = input.value.trim();
  return value === '' ? undefined : value;
}

/** @returns {ConnectOptions | undefined} the options from the form, or undefined (after saying why) */
function connectOptions() {
  const url = ui.url.value.trim();
  if (!/^wss?:\/\/\S+$/i.test(url)) {
    log(`connect: Server URL must be a ws:// or wss:// address, got ${JSON.stringify(url)}`, true);
    return undefined;
  }
  const port = optional(ui.port);
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    log(`connect: Port must be a number from 1 to 65535, got ${JSON.stringify(port)}`, true);
    return undefined;
  }
  const token = ui.token.value;
  return {
    url,
    appKey: optional(ui.appKey) ?? Callhook.DEFAULT_APP_KEY,
    sip: {
      login: optional(ui.login),
      authName: optional(ui.authName),
      password: ui.password.value === '' ? undefined : ui.password.value,
      domain: optional(ui.domain),
      outboundProxy: optional(ui.outboundProxy),
      port: port === undefined ? undefined : Number(port),
      register: ui.register.checked,
    },
    ...(token !== '' && { custom: { token } }),
  };
}

async function connect() {
  const options = connectOptions();
  if (options === undefined) return;
  // Connect again after a failed registration: the session with the wrong account goes first.
  if (session !== undefined) await disconnect();
  showProblem(undefined);
  saveSettings();
  setConnection('PENDING');
  log(`Connecting to ${options.url} (app ${options.appKey})`);
  try {
    const connected = await Callhook.connect(options);
    session = connected;
    watchSession(connected);
    setConnection(connected.status);
    log(change('ConnectionStatusEvent', connected.status, undefined));
    if (options.sip?.register !== true) log('Not registering (Register is unchecked): calls and messages can go out, none can come in');
  } catch (err) {
    const { code, info } = reason(err);
    setConnection('FAILED');
    const text = code === 'CONNECT_REFUSED' ? `connect refused: ${info}` : `connect failed: ${info}`;
    log(text, true);
    showProblem(`Not connected: ${text}`);
  }
}

/** @param {Session} s */
function watchSession(s) {
  s.on('registered', (e) => {
    registrationFailed = false;
    showProblem(undefined);
    setRegistration('REGISTERED');
    log(change('RegistrationStatusEvent', e.status, e.info));
    setConnection(connection);
  });
  s.on('registrationFailed', (e) => {
    registrationFailed = true;
    setRegistration('FAILED');
    log(change('RegistrationStatusEvent', e.status, e.info), true);
    showProblem(`Registration failed: ${e.info ?? 'no reason given'}. Correct the account below and press Connect again.`);
    setConnection(connection);
  });
  s.on('disconnected', (e) => {
    if (session !== s) return;
    log(change('ConnectionStatusEvent', 'DISCONNECTED', e.info), !e.byClient);
    ended(s, 'DISCONNECTED');
  });
  s.on('failed', (e) => {
    if (session !== s) return;
    log(change('ConnectionStatusEvent', 'FAILED', e.info), true);
    ended(s, 'FAILED');
  });
  s.on('incomingCall', (c) => incomingCall(c));
  s.on('message', (m) => {
    const from = m.from ?? 'unknown sender';
    addMessage('in', peerName(from), m.body ?? '', 'RECEIVED');
    if (ui.messageTo.value.trim() === '') ui.messageTo.value = from;
    log(`MessageStatusEvent RECEIVED from ${peerName(from)}`);
  });
  s.on('messageStatus', (e) => {
    setMessageStatus(e.id, e.status, e.info);
    log(change('MessageStatusEvent', e.status, e.info), e.status === 'FAILED');
  });
  s.on('warning', (w) => log(refusalText(w), true));
}

/**
 * The session is over: its calls have ended (the SDK reported that on each call), the pane goes back to idle.
 * @param {Session} s
 * @param {ConnectionStatus} status
 */
function ended(s, status) {
  if (session === s) session = undefined;
  registrationFailed = false;
  hideIncoming();
  setRegistration('UNREGISTERED');
  setConnection(status);
}

async function disconnect() {
  const s = session;
  if (s === undefined) return;
  ui.disconnect.disabled = true;
  log('Disconnecting');
  await s.disconnect();
}

/** @param {ConnectionStatus} status */
function setConnection(status) {
  connection = status;
  showState(ui.connectionStatus, status);
  // Connected, the form gives way to one line (on a phone the call pane is then at the top of the screen) — unless
  // the registration failed: then the form stays open to fix the account, with Connect to try again.
  const settled = status === 'ESTABLISHED' && !registrationFailed;
  ui.accountFields.disabled = status === 'PENDING' || settled;
  ui.accountFields.hidden = settled;
  ui.accountSummary.hidden = status !== 'ESTABLISHED';
  ui.accountSummary.textContent = session === undefined ? '' : accountSummary(session);
  ui.connect.disabled = status === 'PENDING';
  swap(ui.connect, ui.disconnect, status === 'ESTABLISHED');
  if (status === 'ESTABLISHED' && registrationFailed) ui.connect.hidden = false;
  ui.disconnect.disabled = false;
  renderCall();
}

/**
 * Why the account does not work, in the Account card itself (`undefined` clears it).
 * @param {string | undefined} text
 */
function showProblem(text) {
  ui.accountProblem.textContent = text ?? '';
  ui.accountProblem.hidden = text === undefined;
}

/**
 * `alice@pbx.example.com at ws://host:8080/ (app defaultApp)`: the account as the server holds it (a backend may
 * have filled it in, or hidden it: then only the server and the app).
 * @param {Session} s
 */
function accountSummary(s) {
  const { sipLogin, sipDomain, appKey } = s.userData ?? {};
  const who = sipLogin === undefined ? '' : sipDomain === undefined ? `${sipLogin} at ` : `${sipLogin}@${sipDomain} at `;
  return `${who}${s.url} (app ${appKey ?? Callhook.DEFAULT_APP_KEY})`;
}

/** @param {RegistrationStatus} status */
function setRegistration(status) {
  showState(ui.registrationStatus, status);
}

/**
 * @param {HTMLOutputElement} output
 * @param {string} state
 */
function showState(output, state) {
  output.textContent = state;
  output.dataset['state'] = state;
}

/**
 * Shows `b` instead of `a` when `showB` (else `a`), moving the keyboard focus along when it was on the one hidden.
 * @param {HTMLButtonElement} a
 * @param {HTMLButtonElement} b
 * @param {boolean} showB
 */
function swap(a, b, showB) {
  const [hide, show] = showB ? [a, b] : [b, a];
  const hadFocus = document.activeElement === hide;
  hide.hidden = true;
  show.hidden = false;
  if (hadFocus && !show.disabled) show.focus();
}

// -------------------------------------------------------------------------------------------------------- calls

const TALKING = new Set(['ESTABLISHED', 'HOLD']);

function placeCall() {
  const callee = ui.callee.value.trim();
  if (session === undefined || connection !== 'ESTABLISHED') {
    log('call: not connected', true);
    return;
  }
  if (callee === '') {
    log('call: Callee is empty', true);
    ui.callee.focus();
    return;
  }
  try {
    const c = session.call({ callee, remoteAudio: ui.remoteAudio });
    log(`Calling ${callee}`);
    watchCall(c);
    showCall(c);
  } catch (err) {
    log(`call failed: ${reason(err).info}`, true);
  }
}

/**
 * An incoming call: the banner, unless one is already ringing (then this one is declined, so its caller hears
 * busy rather than ringing forever).
 * @param {Call} c
 */
function incomingCall(c) {
  const who = callerName(c);
  watchCall(c);
  if (ringing !== undefined && !ringing.ended) {
    log(`Incoming call from ${who} declined: another call is ringing`, true);
    c.hangup();
    return;
  }
  ringing = c;
  log(`Incoming call from ${who}`);
  ui.incomingCaller.textContent = who;
  ui.incoming.hidden = false;
  ui.answer.disabled = false;
  ui.answer.focus();
}

async function answer() {
  const c = ringing;
  if (c === undefined || session === undefined) return;
  ui.answer.disabled = true;
  hideIncoming();
  // One call at a time: answering ends the call in progress.
  if (call !== undefined && !call.ended) call.hangup();
  showCall(c);
  try {
    await session.answer(c, { remoteAudio: ui.remoteAudio });
    log(`Answered the call from ${callerName(c)}`);
  } catch (err) {
    log(`answer failed: ${reason(err).info}`, true);
  }
}

function decline() {
  const c = ringing;
  if (c === undefined) return;
  hideIncoming();
  log(`Declined the call from ${callerName(c)}`);
  c.hangup();
}

function hideIncoming() {
  ringing = undefined;
  ui.incoming.hidden = true;
  ui.incomingCaller.textContent = '';
}

/**
 * The far end as the call knows it: the display name and the caller, when they differ.
 * @param {Call} c
 */
function callerName(c) {
  const caller = c.caller ?? 'unknown caller';
  return c.visibleName !== undefined && c.visibleName !== '' && c.visibleName !== caller ? `${c.visibleName} (${caller})` : caller;
}

/**
 * Logs every status of `c`, and keeps the banner and the call pane in step with it.
 * @param {Call} c
 */
function watchCall(c) {
  c.on('status', (e) => {
    const final = Callhook.isFinalCallStatus(e.status);
    log(change('CallStatusEvent', e.status, e.info), e.status === 'FAILED' || e.status === 'BUSY');
    if (c === ringing && final) hideIncoming();
    if (c !== call) return;
    if (e.status === 'ESTABLISHED' && answeredAt === undefined) startTimer();
    if (final) stopTimer();
    renderCall();
  });
  c.on('warning', (w) => {
    if (c === call && w.apiMethod === 'hold') heldHere = false; // the hold was refused
    // A refusal that stops the call (a backend's `call` hook) is followed by its FAILED status with the same
    // reason, logged there; and once a call has ended nothing more can be done about it (e.g. playback cut short
    // by the hang-up).
    if (w.apiMethod !== 'CallStatusEvent' && !c.ended) log(refusalText(w), true);
    if (c === call) renderCall();
  });
  c.on('transfer', (e) => log(change('TransferStatusEvent', e.status, e.info), e.status === 'FAILED'));
}

/**
 * Makes `c` the call of the call pane.
 * @param {Call} c
 */
function showCall(c) {
  stopTimer();
  call = c;
  heldHere = false;
  answeredAt = undefined;
  ui.callTimer.textContent = formatDuration(0);
  if (c.status === 'ESTABLISHED') startTimer();
  renderCall();
}

/** The call pane and the buttons that depend on the connection and the call. */
function renderCall() {
  const connected = connection === 'ESTABLISHED';
  const live = call !== undefined && !call.ended;
  const talking = live && call !== undefined && TALKING.has(call.status);
  const held = talking && heldHere && call?.status === 'HOLD';
  const muted = live && call?.muted === true;

  showState(ui.callStatus, call?.status ?? '');
  ui.callTimer.hidden = answeredAt === undefined;
  ui.callPeer.textContent = call === undefined ? '' : describeCall(call);
  ui.call.disabled = !connected || live;
  ui.hangup.disabled = !live;
  ui.hold.disabled = !talking;
  swap(ui.hold, ui.unhold, held);
  ui.mute.disabled = !live;
  swap(ui.mute, ui.unmute, muted);
  ui.transfer.disabled = !talking;
  ui.send.disabled = !connected;
}

/** @param {Call} c */
function describeCall(c) {
  const peer = c.incoming ? `from ${callerName(c)}` : `to ${c.callee ?? ''}`;
  return c.info === undefined || c.info === '' ? peer : `${peer} · ${c.info}`;
}

/**
 * Runs `action` on the current call; the SDK's refusal (INVALID_STATE, NOT_CONNECTED) goes to the Event log.
 * @param {string} what
 * @param {(c: Call) => void} action
 */
function onCall(what, action) {
  if (call === undefined || call.ended) return;
  try {
    action(call);
  } catch (err) {
    log(`${what} failed: ${reason(err).info}`, true);
  }
  renderCall();
}

/**
 * A dial-pad key: DTMF during a call, else a digit of the callee.
 * @param {string} key
 */
function dialKey(key) {
  if (call !== undefined && TALKING.has(call.status)) {
    onCall('sendDtmf', (c) => {
      c.sendDtmf(key);
      // Asked for, not yet sent: the server plays it to the SIP side or refuses it (a `sendDtmf: …` line then).
      log(`DTMF ${key} requested`);
    });
    return;
  }
  ui.callee.value += key;
}

function transfer() {
  const target = ui.transferTo.value.trim();
  if (target === '') {
    log('transfer: Transfer to is empty', true);
    ui.transferTo.focus();
    return;
  }
  onCall('transfer', (c) => {
    c.transfer(target);
    log(`Transferring to ${target}`);
  });
}

function startTimer() {
  stopTimer();
  answeredAt = Date.now();
  ui.callTimer.textContent = formatDuration(0);
  timer = setInterval(() => {
    if (answeredAt !== undefined) ui.callTimer.textContent = formatDuration(Date.now() - answeredAt);
  }, 1000);
}

function stopTimer() {
  clearInterval(timer);
  timer = undefined;
}

/**
 * `mm:ss`, or `h:mm:ss` from an hour on.
 * @param {number} ms
 */
function formatDuration(ms) {
  const total = Math.floor(ms / 1000);
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

// ----------------------------------------------------------------------------------------------------- messages

async function sendMessage() {
  const to = ui.messageTo.value.trim();
  const body = ui.message.value;
  if (session === undefined || connection !== 'ESTABLISHED') {
    log('sendMessage: not connected', true);
    return;
  }
  if (to === '' || body.trim() === '') {
    log(`sendMessage: ${to === '' ? 'Message to' : 'Message'} is empty`, true);
    (to === '' ? ui.messageTo : ui.message).focus();
    return;
  }
  const id = `m${Date.now().toString(36)}-${++messageSeq}`;
  sentMessages.set(id, addMessage('out', peerName(to), body, undefined));
  ui.message.value = '';
  try {
    await session.sendMessage({ to, body, id });
  } catch (err) {
    const { code, info } = reason(err);
    // MESSAGE_FAILED came with a FAILED messageStatus, logged there; a timeout or a lost connection did not.
    if (code !== 'MESSAGE_FAILED') {
      setMessageStatus(id, 'FAILED', info);
      log(`sendMessage failed: ${info}`, true);
    }
  } finally {
    sentMessages.delete(id);
  }
}

/**
 * Adds a message to the Messages log: the peer, the text and its status.
 * @param {'in' | 'out'} direction
 * @param {string} peer
 * @param {string} text
 * @param {MessageStatus | undefined} status undefined while the server has not reported on it
 */
function addMessage(direction, peer, text, status) {
  const entry = document.createElement('li');
  entry.className = direction;
  const name = document.createElement('span');
  name.className = 'peer-name';
  name.textContent = peer;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  const state = document.createElement('span');
  state.className = 'status';
  const info = document.createElement('span');
  info.className = 'info';
  // The separators make the entry read as a sentence (`bob: hello ACCEPTED`) to a screen reader and in a copy.
  entry.append(name, ': ', body, ' ', state, info);
  showMessageStatus(entry, status ?? 'sending', undefined);
  appendBounded(ui.messages, entry);
  return entry;
}

/**
 * @param {string} id
 * @param {MessageStatus} status
 * @param {string | undefined} info
 */
function setMessageStatus(id, status, info) {
  const entry = sentMessages.get(id);
  if (entry !== undefined) showMessageStatus(entry, status, info);
}

/**
 * @param {HTMLLIElement} entry
 * @param {string} status
 * @param {string | undefined} info
 */
function showMessageStatus(entry, status, info) {
  const state = entry.querySelector('.status');
  const detail = entry.querySelector('.info');
  if (!(state instanceof HTMLElement) || !(detail instanceof HTMLElement)) return;
  state.textContent = status;
  state.dataset['status'] = status;
  detail.textContent = status === 'FAILED' && info !== undefined ? ` (${info})` : '';
}

/**
 * A peer as the logs show it: `sip:alice@pbx` → `alice@pbx`.
 * @param {string} address
 */
function peerName(address) {
  return address.replace(/^sips?:/i, '');
}

// ------------------------------------------------------------------------------------------------------ wiring

/**
 * A form's submit (the button, or Enter in a field) runs `action` instead of loading a page.
 * @param {HTMLFormElement} form
 * @param {() => unknown} action
 */
function onSubmit(form, action) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void action();
  });
}

onSubmit(ui.connectForm, connect);
onSubmit(ui.callForm, placeCall);
onSubmit(ui.transferForm, transfer);
onSubmit(ui.messageForm, sendMessage);
ui.disconnect.addEventListener('click', () => void disconnect());
ui.answer.addEventListener('click', () => void answer());
ui.decline.addEventListener('click', decline);
// Escape declines a ringing call, as it closes any dialog (WAI-ARIA APG, dialog pattern).
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !ui.incoming.hidden && !event.isComposing) {
    event.preventDefault();
    decline();
  }
});
ui.hangup.addEventListener('click', () => onCall('hangup', (c) => c.hangup()));
ui.hold.addEventListener('click', () =>
  onCall('hold', (c) => {
    c.hold();
    heldHere = true;
  }),
);
ui.unhold.addEventListener('click', () =>
  onCall('unhold', (c) => {
    c.unhold();
    heldHere = false;
  }),
);
ui.mute.addEventListener('click', () => onCall('mute', (c) => c.mute()));
ui.unmute.addEventListener('click', () => onCall('unmute', (c) => c.unmute()));
ui.dialpad.addEventListener('click', (event) => {
  const key = event.target instanceof HTMLButtonElement ? event.target.dataset['key'] : undefined;
  if (key !== undefined) dialKey(key);
});
// Enter sends a message; Shift+Enter makes a new line.
ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.messageForm.requestSubmit();
  }
});

restoreSettings();
setConnection('DISCONNECTED');
if (!window.isSecureContext) {
  log('This page is not a secure context: browsers give no microphone here. Open it over https:// (wssPort) or from localhost.', true);
}

Object.defineProperty(window, 'webphone', {
  value: Object.freeze({
    get session() {
      return session;
    },
    get call() {
      return call;
    },
    get ringing() {
      return ringing;
    },
  }),
});
