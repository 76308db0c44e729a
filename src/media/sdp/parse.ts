/**
 * Parsing SDP text into the model (RFC 8866 §5, grammar in §9):
 *
 *   session-description = version-field origin-field session-name-field [information-field] [uri-field]
 *                         *email-field *phone-field [connection-field] *bandwidth-field 1*time-description
 *                         [key-field] *attribute-field *media-description
 *   time-description    = time-field *repeat-field [zone-field]
 *   media-description   = media-field [information-field] *connection-field *bandwidth-field [key-field]
 *                         *attribute-field
 *
 * `v=`, `o=` and `s=` must come first and in this order. After them the session-level lines are accepted in any
 * order (non-spec ordering seen in the wild costs nothing to accept), but a media description may only hold
 * i/c/b/k/a lines. Lines end in CRLF or a bare LF; blank lines are skipped. A type letter SDP does not define makes
 * the whole description invalid (§5: "MUST completely ignore any session description that contains a type letter
 * that it does not understand"). Errors are MediaError MEDIA_SDP_PARSE naming the line number and what was wrong.
 */
import { MediaError } from '../errors.ts';
import type { Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription } from './model.ts';

export function parseSdp(text: string): SessionDescription {
  const lines = text.split(/\r?\n/);
  const p: LineReader = new LineReader(lines);
  const version = p.expect('v');
  if (version !== '0') p.fail(`v= must be 0, got '${version}'`);
  const origin = parseOrigin(p.expect('o'), p);
  const sessionName = p.expect('s');
  const sdp: SessionDescription = {
    version: 0, origin, sessionName, emails: [], phones: [], bandwidths: [], times: [], attributes: [], media: [],
  };
  let media: MediaDescription | undefined;
  for (let line = p.next(); line !== undefined; line = p.next()) {
    const [type, value] = line;
    if (type === 'm') {
      media = parseMediaField(value, p);
      sdp.media.push(media);
      continue;
    }
    if (media) {
      parseMediaLine(media, type, value, p);
      continue;
    }
    switch (type) {
      case 'i': sdp.information = once(sdp.information, value, 'i=', p); break;
      case 'u': sdp.uri = once(sdp.uri, value, 'u=', p); break;
      case 'e': sdp.emails.push(value); break;
      case 'p': sdp.phones.push(value); break;
      case 'c': {
        if (sdp.connection) p.fail('more than one session-level c= line');
        sdp.connection = parseConnection(value, p);
        break;
      }
      case 'b': sdp.bandwidths.push(parseBandwidth(value, p)); break;
      case 't': {
        const [start, stop, ...rest] = value.split(' ');
        if (start === undefined || stop === undefined || rest.length > 0 || !isDigits(start) || !isDigits(stop)) {
          p.fail(`t= needs '<start-time> <stop-time>', got '${value}'`);
        }
        sdp.times.push({ start, stop, repeats: [] });
        break;
      }
      case 'r': lastTime(sdp, 'r=', p).repeats.push(value); break;
      case 'z': {
        const t = lastTime(sdp, 'z=', p);
        t.zone = once(t.zone, value, 'z=', p);
        break;
      }
      case 'k': sdp.key = once(sdp.key, value, 'k=', p); break;
      case 'a': sdp.attributes.push(parseAttribute(value)); break;
      default: p.fail(`'${type}=' is not allowed here`);
    }
  }
  return sdp;
}

function parseMediaLine(media: MediaDescription, type: string, value: string, p: LineReader): void {
  switch (type) {
    case 'i': media.information = once(media.information, value, 'i=', p); break;
    case 'c': media.connections.push(parseConnection(value, p)); break;
    case 'b': media.bandwidths.push(parseBandwidth(value, p)); break;
    case 'k': media.key = once(media.key, value, 'k=', p); break;
    case 'a': media.attributes.push(parseAttribute(value)); break;
    default: p.fail(`'${type}=' is not allowed inside a media description`);
  }
}

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2). */
function parseOrigin(value: string, p: LineReader): Origin {
  const f = value.split(' ');
  if (f.length !== 6 || f.some((x) => x === '')) {
    p.fail(`o= needs '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>', got '${value}'`);
  }
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [
    string, string, string, string, string, string,
  ];
  if (!isDigits(sessionId) || !isDigits(sessionVersion)) p.fail(`o= session id and version must be numbers, got '${value}'`);
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

/** `c=<nettype> <addrtype> <connection-address>` (§5.7). */
function parseConnection(value: string, p: LineReader): Connection {
  const f = value.split(' ');
  if (f.length !== 3 || f.some((x) => x === '')) p.fail(`c= needs '<nettype> <addrtype> <address>', got '${value}'`);
  const [netType, addrType, address] = f as [string, string, string];
  return { netType, addrType, address };
}

/** `b=<bwtype>:<bandwidth>` (§5.8). */
function parseBandwidth(value: string, p: LineReader): Bandwidth {
  const i = value.indexOf(':');
  const type = value.slice(0, i);
  const amount = value.slice(i + 1);
  if (i <= 0 || !isDigits(amount)) p.fail(`b= needs '<bwtype>:<bandwidth>', got '${value}'`);
  return { type, value: Number(amount) };
}

/** `m=<media> <port>[/<number of ports>] <proto> 1*(<fmt>)` (§5.14). */
function parseMediaField(value: string, p: LineReader): MediaDescription {
  const [type, portField, protocol, ...formats] = value.split(' ');
  if (type === undefined || portField === undefined || protocol === undefined || formats.length === 0 || type === '' ||
    protocol === '' || formats.some((f) => f === '')) {
    p.fail(`m= needs '<media> <port> <proto> <fmt> ...', got '${value}'`);
  }
  const slash = portField.indexOf('/');
  const portText = slash < 0 ? portField : portField.slice(0, slash);
  const countText = slash < 0 ? undefined : portField.slice(slash + 1);
  const port = Number(portText);
  if (!isDigits(portText) || port > 65535) p.fail(`m= port must be 0–65535, got '${portField}'`);
  const media: MediaDescription = { type, port, protocol, formats, connections: [], bandwidths: [], attributes: [] };
  if (countText !== undefined) {
    if (!isDigits(countText)) p.fail(`m= number of ports must be a number, got '${portField}'`);
    media.portCount = Number(countText);
  }
  return media;
}

/** `a=<attribute-name>[:<attribute-value>]` (§5.13): the name ends at the first colon. */
function parseAttribute(value: string): Attribute {
  const i = value.indexOf(':');
  return i < 0 ? { name: value } : { name: value.slice(0, i), value: value.slice(i + 1) };
}

function lastTime(sdp: SessionDescription, what: string, p: LineReader): SessionDescription['times'][number] {
  const t = sdp.times.at(-1);
  if (!t) p.fail(`${what} must follow a t= line`);
  return t;
}

function once(previous: string | undefined, value: string, what: string, p: LineReader): string {
  if (previous !== undefined) p.fail(`more than one ${what} line`);
  return value;
}

function isDigits(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** Walks the lines as `<type>=<value>` pairs, keeping the line number for errors. */
class LineReader {
  private index = 0;
  constructor(private readonly lines: string[]) {}

  next(): [string, string] | undefined {
    while (this.index < this.lines.length) {
      const line = this.lines[this.index++]!;
      if (line === '') continue;
      // §5: "<type>=<value>", type a single case-significant letter, no whitespace either side of '='.
      if (line.length < 2 || line[1] !== '=' || !/^[a-z]$/.test(line[0]!)) {
        this.fail(`expected '<letter>=<value>', got '${line.slice(0, 40)}'`);
      }
      return [line[0]!, line.slice(2)];
    }
    return undefined;
  }

  expect(type: string): string {
    const line = this.next();
    if (!line) throw new MediaError('MEDIA_SDP_PARSE', `SDP ends before its ${type}= line`);
    if (line[0] !== type) this.fail(`expected ${type}= here, got ${line[0]}=`);
    return line[1];
  }

  fail(reason: string): never {
    throw new MediaError('MEDIA_SDP_PARSE', `SDP line ${this.index}: ${reason}`);
  }
}
