/**
 * SIP requests and responses (RFC 3261 §7.1, §7.2) with an ordered header list. Header values are raw strings;
 * ./headers.ts turns them into typed views. Messages are plain data: no I/O, no transaction state.
 */
import { canonicalHeaderName, LIST_HEADERS } from './header-names.ts';
import type { HeaderField, Uri } from './types.ts';

export class Headers {
  readonly fields: HeaderField[] = [];

  constructor(fields?: Iterable<HeaderField>) {
    if (fields) for (const f of fields) this.append(f.name, f.value);
  }

  /** First value of a header (whole line: list headers are not split). */
  get(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (const f of this.fields) if (f.name === n) return f.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Every value of a header in order. For list headers (RFC 3261 §7.3.1) comma-separated values on one line are
   * split, so `Via: a, b` and two Via lines read the same.
   */
  getAll(name: string): string[] {
    const n = canonicalHeaderName(name);
    const out: string[] = [];
    const split = LIST_HEADERS.has(n);
    for (const f of this.fields) {
      if (f.name !== n) continue;
      if (split) out.push(...splitList(f.value));
      else out.push(f.value);
    }
    return out;
  }

  append(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Prepends (Via, Record-Route and Route are pushed on top by proxies and UAs alike). */
  prepend(name: string, value: string): this {
    this.fields.unshift({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Replaces every line of the header with one value, at the place of the first one (or at the end). */
  set(name: string, value: string): this {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    if (i < 0) return this.append(n, value);
    this.fields[i] = { name: n, value };
    for (let j = this.fields.length - 1; j > i; j--) if (this.fields[j]!.name === n) this.fields.splice(j, 1);
    return this;
  }

  delete(name: string): this {
    const n = canonicalHeaderName(name);
    for (let j = this.fields.length - 1; j >= 0; j--) if (this.fields[j]!.name === n) this.fields.splice(j, 1);
    return this;
  }

  clone(): Headers {
    return new Headers(this.fields);
  }
}

/** Splits a list header value on commas outside quotes and angle brackets. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3c /* < */) depthAngle++;
    else if (c === 0x3e /* > */ && depthAngle > 0) depthAngle--;
    else if (c === 0x2c /* , */ && depthAngle === 0) {
      const part = value.slice(start, i).trim();
      if (part !== '') out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

const EMPTY = Buffer.alloc(0);

export class SipRequest {
  readonly kind = 'request' as const;
  method: string;
  uri: Uri;
  headers: Headers;
  body: Buffer;

  constructor(method: string, uri: Uri, headers: Headers = new Headers(), body: Buffer = EMPTY) {
    this.method = method;
    this.uri = uri;
    this.headers = headers;
    this.body = body;
  }
}

export class SipResponse {
  readonly kind = 'response' as const;
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;

  constructor(status: number, reason: string, headers: Headers = new Headers(), body: Buffer = EMPTY) {
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
  }
}

export type SipMessage = SipRequest | SipResponse;
