import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BRANCH_MAGIC_COOKIE, createAckForNon2xx, createCancel, createResponse, newBranch, newCallId, newTag, reasonPhrase,
} from '../../src/sip/message/builders.ts';
import { getCallId, getCSeq, getFrom, getTo, getVias } from '../../src/sip/message/headers.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { formatUri } from '../../src/sip/message/uri.ts';

function sip<T extends SipMessage>(lines: string[]): T {
  return parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n')) as T;
}

const invite = (): SipRequest =>
  sip<SipRequest>([
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1',
    'Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1, SIP/2.0/UDP p2.example.com;branch=z9hG4bKx',
    'Route: <sip:p1.example.com;lr>',
    'Route: <sip:p2.example.com;lr>',
    'Max-Forwards: 69',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Timestamp: 54',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
  ]);

describe('RFC 3261 §8.2.6 createResponse', () => {
  it('MUST copy every Via value in order, From, Call-ID and CSeq', () => {
    const req = invite();
    const res = createResponse(req, 486);
    assert.deepEqual(
      getVias(res).map((v) => v.params.get('branch')),
      ['z9hG4bKnashds8', 'z9hG4bK77ef4c2312983.1', 'z9hG4bKx'],
    );
    assert.equal(getVias(res)[0]!.params.get('received'), '192.0.2.1');
    assert.equal(res.headers.get('From'), req.headers.get('From'));
    assert.equal(getCallId(res), 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.deepEqual(getCSeq(res), { seq: 314159, method: 'INVITE' });
    assert.equal(res.status, 486);
    assert.equal(res.reason, 'Busy Here');
    assert.equal(res.headers.get('Contact'), undefined, 'request-only headers are not copied');
    assert.equal(res.headers.get('Route'), undefined);
  });

  it('MUST add a To tag to a response above 100 when the request had none (§8.2.6.2)', () => {
    const res = createResponse(invite(), 180, undefined, { toTag: 'abc123' });
    const to = getTo(res);
    assert.equal(to.params.get('tag'), 'abc123');
    assert.equal(to.displayName, 'Bob');
    assert.equal(formatUri(to.uri), 'sip:bob@biloxi.example.com');
  });

  it('adds a random To tag when none is given', () => {
    const tag = getTo(createResponse(invite(), 200)).params.get('tag');
    assert.match(tag ?? '', /^[0-9a-f]{16}$/);
  });

  it('MUST keep the To tag of a request that has one (§8.2.6.2)', () => {
    const req = invite();
    req.headers.set('To', '<sip:bob@biloxi.example.com>;tag=existing');
    const res = createResponse(req, 200, undefined, { toTag: 'other' });
    assert.equal(res.headers.get('To'), '<sip:bob@biloxi.example.com>;tag=existing');
  });

  it('100 Trying adds no To tag and copies Timestamp (§8.2.6.1)', () => {
    const res = createResponse(invite(), 100);
    assert.equal(getTo(res).params.has('tag'), false);
    assert.equal(res.headers.get('Timestamp'), '54');
    assert.equal(res.reason, 'Trying');
    assert.equal(createResponse(invite(), 180).headers.get('Timestamp'), undefined);
  });

  it('takes a given reason phrase, extra headers and a body', () => {
    const res = createResponse(invite(), 200, 'Fine', {
      headers: [{ name: 'Content-Type', value: 'text/plain' }, { name: 'Allow', value: 'INVITE, ACK' }],
      body: 'hello',
    });
    assert.equal(res.reason, 'Fine');
    assert.equal(res.headers.get('Content-Type'), 'text/plain');
    assert.equal(res.headers.get('Allow'), 'INVITE, ACK');
    assert.equal(res.body.toString(), 'hello');
  });

  it('builds a response to a request whose To cannot be read (a 400 copies it as it is)', () => {
    const req = invite();
    req.headers.set('To', '<sip:bob@');
    const res = createResponse(req, 400, 'Bad To header');
    assert.equal(res.headers.get('To'), '<sip:bob@');
  });
});

describe('RFC 3261 §21 reasonPhrase', () => {
  it('gives the phrases of §21', () => {
    assert.equal(reasonPhrase(200), 'OK');
    assert.equal(reasonPhrase(408), 'Request Timeout');
    assert.equal(reasonPhrase(423), 'Interval Too Brief');
    assert.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
    assert.equal(reasonPhrase(503), 'Service Unavailable');
    assert.equal(reasonPhrase(603), 'Decline');
  });

  it('gives the empty phrase for a code it does not know', () => {
    assert.equal(reasonPhrase(499), '');
  });
});

describe('RFC 3261 §17.1.1.3 createAckForNon2xx', () => {
  const response = (): SipResponse => {
    const res = createResponse(invite(), 486, undefined, { toTag: 'callee' });
    return res;
  };

  it('MUST have the Request-URI, Call-ID and From of the INVITE, the To of the response and CSeq <n> ACK', () => {
    const req = invite();
    const ack = createAckForNon2xx(req, response());
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.uri, req.uri);
    assert.equal(getCallId(ack), getCallId(req));
    assert.equal(ack.headers.get('From'), req.headers.get('From'));
    assert.equal(getTo(ack).params.get('tag'), 'callee');
    assert.deepEqual(getCSeq(ack), { seq: 314159, method: 'ACK' });
  });

  it('MUST contain a single Via equal to the top Via of the INVITE (same branch)', () => {
    const ack = createAckForNon2xx(invite(), response());
    assert.deepEqual(ack.headers.getAll('Via'), [
      'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1',
    ]);
  });

  it('MUST carry the Route header fields of the INVITE, in order', () => {
    const ack = createAckForNon2xx(invite(), response());
    assert.deepEqual(ack.headers.getAll('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(ack.headers.get('Max-Forwards'), '69');
    assert.equal(ack.headers.get('Contact'), undefined);
    assert.equal(ack.body.length, 0);
  });
});

describe('RFC 3261 §9.1 createCancel', () => {
  it('MUST have the Request-URI, Call-ID, To, From and CSeq number of the INVITE and the method CANCEL', () => {
    const req = invite();
    const cancel = createCancel(req);
    assert.equal(cancel.method, 'CANCEL');
    assert.equal(cancel.uri, req.uri);
    assert.equal(cancel.headers.get('To'), req.headers.get('To'));
    assert.equal(getFrom(cancel).params.get('tag'), '1928301774');
    assert.equal(getCallId(cancel), getCallId(req));
    assert.deepEqual(getCSeq(cancel), { seq: 314159, method: 'CANCEL' });
  });

  it('MUST have a single Via matching the top Via of the INVITE and its Route headers', () => {
    const cancel = createCancel(invite());
    assert.equal(cancel.headers.getAll('Via').length, 1);
    assert.equal(getVias(cancel)[0]!.params.get('branch'), 'z9hG4bKnashds8');
    assert.deepEqual(cancel.headers.getAll('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  });
});

describe('RFC 3261 §8.1.1 identifiers', () => {
  it('newBranch starts with the magic cookie z9hG4bK and is unique', () => {
    const a = newBranch();
    assert.ok(a.startsWith(BRANCH_MAGIC_COOKIE));
    assert.ok(a.length > BRANCH_MAGIC_COOKIE.length + 16);
    assert.notEqual(a, newBranch());
  });

  it('newTag has at least 32 random bits (§19.3)', () => {
    assert.match(newTag(), /^[0-9a-f]{16}$/);
    assert.notEqual(newTag(), newTag());
  });

  it('newCallId is random@host (§8.1.1.4)', () => {
    const id = newCallId('192.0.2.4');
    assert.match(id, /^[0-9a-f]{32}@192\.0\.2\.4$/);
    assert.notEqual(id, newCallId('192.0.2.4'));
  });
});
