/**
 * A dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up, and what every later request of that
 * call needs — the dialog id, both CSeq counters, both URIs, the remote target and the route set.
 *
 * UAC side (§12.1.2): made from a response with a To tag to our INVITE — a 1xx makes an early dialog, a 2xx a
 * confirmed one; the route set is the response's Record-Route reversed. UAS side (§12.1.1): made when we answer an
 * INVITE with a To tag; the route set is the request's Record-Route in order.
 *
 * States (one guard, `stateTransition`):
 *   Early → Confirmed | Terminated
 *   Confirmed → Terminated
 *   Terminated: final
 *
 * Strict routing (§12.2.1.1, a first route without `lr`, RFC 2543 proxies) is implemented as the RFC describes;
 * `maddr` in a route or target is not honoured when choosing where a request goes.
 * Everything here is plain data and pure functions: sending is the caller's.
 */
import { randomInt } from 'node:crypto';
import { SipParseError } from '../errors.ts';
import { getCallId, getContacts, getCSeq, getFrom, getTo } from '../message/headers.ts';
import { Headers, SipRequest, type SipMessage, type SipResponse } from '../message/message.ts';
import { formatNameAddr, parseNameAddr } from '../message/name-addr.ts';
import { isSipUri, type NameAddr, type Uri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';

export enum DialogState {
  Early = 'Early',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

const TRANSITIONS: Readonly<Record<DialogState, readonly DialogState[]>> = {
  [DialogState.Early]: [DialogState.Confirmed, DialogState.Terminated],
  [DialogState.Confirmed]: [DialogState.Terminated],
  [DialogState.Terminated]: [],
};

/** §12: "A dialog is identified at each UA with a dialog ID, which consists of a Call-ID value, a local tag and a
 * remote tag." */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** The key a dialog is found by (tags and Call-ID compare exactly, as they were generated). */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

/**
 * The dialog id a received request belongs to, seen from our side (§12.2.2): local tag = To tag, remote tag = From
 * tag. Undefined for a request without a To tag (not in a dialog). Throws SipParseError for a broken header.
 */
export function incomingRequestDialogId(request: SipRequest): DialogId | undefined {
  const toTag = getTo(request).params.get('tag');
  if (!toTag) return undefined;
  return { callId: getCallId(request), localTag: toTag, remoteTag: getFrom(request).params.get('tag') ?? '' };
}

/** The dialog id a received response belongs to (we sent the request): local tag = From tag, remote = To tag. */
export function incomingResponseDialogId(response: SipResponse): DialogId | undefined {
  const toTag = getTo(response).params.get('tag');
  const fromTag = getFrom(response).params.get('tag');
  if (!toTag || !fromTag) return undefined;
  return { callId: getCallId(response), localTag: fromTag, remoteTag: toTag };
}

export interface InDialogRequestOptions {
  /** Our Contact (§12.2.1.1: requests that can refresh the target — re-INVITE, UPDATE — and REFER, NOTIFY carry it). */
  contact?: Uri;
  body?: { contentType: string; content: Buffer };
  headers?: readonly { name: string; value: string }[];
}

/** §8.1.1.6: Max-Forwards of requests we originate. */
const MAX_FORWARDS = '70';
/** §8.1.1.5: "the sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less than
 * 2**31". */
const MAX_INITIAL_CSEQ = 2 ** 31 - 1;

export class Dialog {
  readonly id: DialogId;
  /** §12.1: "the local URI" (our From in requests we send) and "the remote URI", tags excluded. */
  readonly local: NameAddr;
  readonly remote: NameAddr;
  /** The Contact of the peer: where requests go when the route set is empty (§12.2.1.1). */
  remoteTarget: Uri;
  /** Route set as name-addrs, in the order of the Route header of requests we send. */
  routeSet: NameAddr[];
  /** Empty (undefined) on the UAS side until our first request (§12.1.1). */
  localSeq: number | undefined;
  /** Empty on the UAC side until the peer's first request (§12.1.2). */
  remoteSeq: number | undefined;
  /** §12.1.1/§12.1.2: a dialog over TLS with a sips Request-URI is "secure" (then targets stay sips). */
  readonly secure: boolean;
  private stateValue: DialogState;

  private constructor(init: {
    id: DialogId;
    local: NameAddr;
    remote: NameAddr;
    remoteTarget: Uri;
    routeSet: NameAddr[];
    localSeq: number | undefined;
    remoteSeq: number | undefined;
    secure: boolean;
    state: DialogState;
  }) {
    this.id = init.id;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.secure = init.secure;
    this.stateValue = init.state;
  }

  /**
   * §12.1.2 (UAC): the dialog a response with a To tag to our `request` creates — early for 101-199, confirmed for
   * 2xx. "The route set MUST be set to the list of URIs in the Record-Route header field from the response, taken
   * in reverse order [...]. The remote target MUST be set to the URI from the Contact header field of the response.
   * The local sequence number MUST be set to the value of the sequence number in the CSeq header field of the
   * request. The remote sequence number MUST be empty." Throws SipParseError for a response without To tag or with
   * broken headers.
   */
  static fromUac(request: SipRequest, response: SipResponse): Dialog {
    const id = incomingResponseDialogId(response);
    if (id === undefined) throw new SipParseError('a dialog needs a response with From and To tags');
    return new Dialog({
      id,
      local: withoutTag(getFrom(request)),
      remote: withoutTag(getTo(response)),
      remoteTarget: contactUri(response) ?? request.uri,
      routeSet: recordRoute(response).reverse(),
      localSeq: getCSeq(request).seq,
      remoteSeq: undefined,
      secure: isSecure(request.uri, request.headers.get('Via')),
      state: response.status < 200 ? DialogState.Early : DialogState.Confirmed,
    });
  }

  /**
   * §12.1.1 (UAS): the dialog our response with To tag `localTag` to `request` creates (early for a 1xx, confirmed
   * for a 2xx). "The route set MUST be set to the list of URIs in the Record-Route header field from the request,
   * taken in order [...]. The remote target MUST be set to the URI from the Contact header field of the request.
   * The remote sequence number MUST be set to the value of the sequence number in the CSeq header field of the
   * request. The local sequence number MUST be empty."
   */
  static fromUas(request: SipRequest, localTag: string, state: DialogState.Early | DialogState.Confirmed): Dialog {
    const from = getFrom(request);
    return new Dialog({
      id: { callId: getCallId(request), localTag, remoteTag: from.params.get('tag') ?? '' },
      local: withoutTag(getTo(request)),
      remote: withoutTag(from),
      // A request without Contact breaks §8.1.1.8; its From address is the best guess of where the peer is.
      remoteTarget: contactUri(request) ?? from.uri,
      routeSet: recordRoute(request),
      localSeq: undefined,
      remoteSeq: getCSeq(request).seq,
      secure: isSecure(request.uri, request.headers.get('Via')),
      state,
    });
  }

  get state(): DialogState {
    return this.stateValue;
  }

  get key(): string {
    return dialogKey(this.id);
  }

  /**
   * An early dialog becomes confirmed by a 2xx (§12.1). On the UAC side pass the 2xx: §13.2.2.4 "the route set for
   * the dialog MUST be recomputed based on the 2xx response", and its Contact is the remote target.
   */
  confirm(response?: SipResponse): void {
    if (this.stateValue === DialogState.Confirmed) return;
    this.stateTransition(DialogState.Confirmed);
    if (response !== undefined) {
      this.routeSet = recordRoute(response).reverse();
      this.refreshTarget(response);
    }
  }

  terminate(): void {
    if (this.stateValue !== DialogState.Terminated) this.stateTransition(DialogState.Terminated);
  }

  /**
   * §12.2: target refresh — a re-INVITE (or its 2xx) "can modify the remote target URI of the dialog": the Contact
   * of the request or response replaces it. A message without a usable Contact leaves it as it is.
   */
  refreshTarget(message: SipMessage): void {
    const uri = contactUri(message);
    if (uri !== undefined) this.remoteTarget = uri;
  }

  /**
   * §12.2.2: checks the CSeq of a request received in this dialog and records it. Returns 500 for a request out of
   * order — "If the remote sequence number was not empty, but the sequence number of the request is lower than the
   * remote sequence number, the request is out of order and MUST be rejected with a 500 (Server Internal Error)
   * response" — else undefined. ACK and CANCEL carry the CSeq of the request they belong to and are not checked.
   */
  receiveRequest(request: SipRequest): 500 | undefined {
    if (request.method === 'ACK' || request.method === 'CANCEL') return undefined;
    const seq = getCSeq(request).seq;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return 500;
    this.remoteSeq = seq;
    return undefined;
  }

  /**
   * §12.2.1.1: a request within the dialog (not ACK, not CANCEL): To = remote URI with the remote tag, From = local
   * URI with the local tag, the dialog's Call-ID, CSeq = local sequence number plus one (chosen at random below 2^31
   * when still empty), Request-URI and Route from the route set (`routeRequest`). No Via: the sender adds it.
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (method === 'ACK' || method === 'CANCEL') throw new Error(`${method} is not created by Dialog.createRequest (RFC 3261 §12.2.1.1)`);
    if (this.stateValue === DialogState.Terminated) throw new Error(`no ${method} in a terminated dialog`);
    this.localSeq = this.localSeq === undefined ? randomInt(1, MAX_INITIAL_CSEQ) : this.localSeq + 1;
    return this.buildRequest(method, this.localSeq, options);
  }

  /**
   * §13.2.2.4: the ACK for a 2xx to `invite`. "The header fields of the ACK are constructed in the same way as for
   * any request sent within a dialog [...] with the exception of the CSeq and the header fields related to
   * authentication. The sequence number of the CSeq header field MUST be the same as the INVITE being acknowledged,
   * but the CSeq method MUST be ACK. The ACK MUST contain the same credentials as the INVITE." `body` carries the
   * SDP answer when the offer came in the 2xx (RFC 3261 §13.2.2.4, RFC 3264).
   */
  createAck(invite: SipRequest, body?: { contentType: string; content: Buffer }): SipRequest {
    const ack = this.buildRequest('ACK', getCSeq(invite).seq, body ? { body } : {});
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      for (const value of invite.headers.getAll(name)) ack.headers.append(name, value);
    }
    return ack;
  }

  /**
   * The URI whose host a request of this dialog is sent to (§12.2.1.1 with §8.1.2): the first route when there is a
   * route set (loose or strict alike: with strict routing it is also the Request-URI), else the remote target.
   */
  nextHopUri(): Uri {
    return this.routeSet[0]?.uri ?? this.remoteTarget;
  }

  private buildRequest(method: string, seq: number, options: InDialogRequestOptions): SipRequest {
    const headers = new Headers();
    const { requestUri, routes } = this.routeRequest();
    for (const route of routes) headers.append('Route', route);
    headers.append('Max-Forwards', MAX_FORWARDS);
    headers.append('To', formatNameAddr(withTag(this.remote, this.id.remoteTag)));
    headers.append('From', formatNameAddr(withTag(this.local, this.id.localTag)));
    headers.append('Call-ID', this.id.callId);
    headers.append('CSeq', `${seq} ${method}`);
    if (options.contact) headers.append('Contact', `<${formatUri(options.contact)}>`);
    for (const h of options.headers ?? []) headers.append(h.name, h.value);
    if (options.body) headers.append('Content-Type', options.body.contentType);
    return new SipRequest(method, requestUri, headers, options.body?.content);
  }

  /**
   * §12.2.1.1: "If the route set is empty, the UAC MUST place the remote target URI into the Request-URI. The UAC
   * MUST NOT add a Route header field to the request. If the route set is not empty, and the first URI in the route
   * set contains the lr parameter [...], the UAC MUST place the remote target URI into the Request-URI and MUST
   * include a Route header field containing the route set values in order, including all parameters. If the route
   * set is not empty, and its first URI does not contain the lr parameter, the UAC MUST place the first URI from the
   * route set into the Request-URI, stripping any parameters that are not allowed in a Request-URI. The UAC MUST
   * add a Route header field containing the remainder of the route set values in order, including all parameters.
   * The UAC MUST then place the remote target URI into the Route header field as the last value."
   */
  private routeRequest(): { requestUri: Uri; routes: string[] } {
    const first = this.routeSet[0];
    if (first === undefined) return { requestUri: this.remoteTarget, routes: [] };
    const all = this.routeSet.map((r) => formatNameAddr(r));
    if (!isSipUri(first.uri) || first.uri.params.has('lr')) return { requestUri: this.remoteTarget, routes: all };
    // §19.1.1 Table 1: method and header components are not allowed in a Request-URI.
    const requestUri = { ...first.uri, params: new Map(first.uri.params), headers: new Map<string, string>() };
    requestUri.params.delete('method');
    return { requestUri, routes: [...all.slice(1), `<${formatUri(this.remoteTarget)}>`] };
  }

  private stateTransition(next: DialogState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`dialog state ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }
}

/** Record-Route entries of a message, top first (comma lists and repeated lines alike). */
function recordRoute(message: SipMessage): NameAddr[] {
  return message.headers.getAll('Record-Route').map((v) => {
    try {
      return parseNameAddr(v);
    } catch (e) {
      if (e instanceof SipParseError) throw new SipParseError(`Bad Record-Route header: ${e.reason}`);
      throw e;
    }
  });
}

/** The URI of the first Contact, or undefined when there is none (or only the REGISTER wildcard). */
function contactUri(message: SipMessage): Uri | undefined {
  const contacts = getContacts(message);
  return contacts === '*' ? undefined : contacts[0]?.uri;
}

function isSecure(requestUri: Uri, topVia: string | undefined): boolean {
  return requestUri.scheme === 'sips' && /^SIP\s*\/\s*2\.0\s*\/\s*TLS\b/i.test(topVia ?? '');
}

function withoutTag(a: NameAddr): NameAddr {
  const params = new Map(a.params);
  params.delete('tag');
  return { ...a, params };
}

function withTag(a: NameAddr, tag: string): NameAddr {
  const params = new Map(a.params);
  if (tag !== '') params.set('tag', tag);
  return { ...a, params };
}
