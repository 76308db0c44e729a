/**
 * RFC 4475 "SIP Torture Test Messages", the parser-relevant ones, written for this suite from the RFC's
 * descriptions (https://www.rfc-editor.org/rfc/rfc4475). Each test names the RFC section and says what the RFC asks
 * of an element: §3.1.1 messages must parse; §3.1.2 messages are invalid, and for each the RFC says whether they
 * should be rejected (400 when a response is possible) or may be accepted by a liberal element; §3.3 and §3.4
 * messages are well formed for a parser (their handling belongs to the application above it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../src/sip/errors.ts';
import {
  formatUri, getCallId, getContacts, getCSeq, getFrom, getMaxForwards, getTo, getVias, parseAuthHeader, parseMessage,
  serializeMessage, SipRequest, SipResponse, type SipMessage, type SipUri,
} from '../../src/sip/message/index.ts';

type Part = string | Buffer;

/**
 * A message from its lines (joined with CRLF) and body. `{CL}` in a line becomes the body's byte length, so the
 * valid messages stay valid whatever the body; tests about a wrong Content-Length write the number out.
 */
function msg(lines: string[], body: Part = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = lines.join('\r\n').replace('{CL}', String(b.length));
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), b]);
}

const SDP = [
  'v=0', 'o=mhandley 29739 7272939 IN IP4 192.0.2.3', 's=-', 'c=IN IP4 192.0.2.4', 't=0 0', 'm=audio 49217 RTP/AVP 0 12',
  'm=video 3227 RTP/AVP 31', 'a=rtpmap:31 LPC', '',
].join('\r\n');

function parses(buf: Buffer): SipMessage {
  const m = parseMessage(buf);
  // Whatever parses must also round-trip stably.
  assert.deepEqual(parseMessage(serializeMessage(m)), m);
  return m;
}

function request(buf: Buffer): SipRequest {
  const m = parses(buf);
  assert.ok(m instanceof SipRequest);
  return m;
}

/** Expects a SipParseError; `answer` says whether the RFC's response (400/505) is possible, i.e. `partial` is set. */
function rejects(buf: Buffer, reason: RegExp, answer: boolean): SipParseError {
  try {
    parseMessage(buf);
  } catch (e) {
    assert.ok(e instanceof SipParseError, `expected SipParseError, got ${String(e)}`);
    assert.match(e.reason, reason);
    assert.doesNotMatch(e.reason, /[\r\n]/, 'a reason must fit a status line');
    assert.equal(e.partial !== undefined, answer, `partial for "${e.reason}"`);
    return e;
  }
  assert.fail('expected the message to be rejected');
}

describe('RFC 4475 §3.1.1 valid messages: a parser must accept them', () => {
  it('§3.1.1.1 wsinv: a short tortuous INVITE (folding, LWS everywhere, compact forms, escapes)', () => {
    const m = request(msg([
      'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
      'TO :',
      ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
      'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
      '  ;',
      '  tag = 98asjd8',
      'MaX-fOrWaRdS: 0068',
      'Call-ID: wsinv.ndaksdj@192.0.2.1',
      'Content-Length   : {CL}',
      'cseq: 0009',
      '  INVITE',
      'Via  : SIP  /   2.0',
      ' /UDP',
      '    192.0.2.2;branch=390skdjuw',
      's :',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'UnknownHeaderWithUnusualValue: ;;,,;;,;',
      'Content-Type: application/sdp',
      'Route:',
      ' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
      'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
      '  branch  =   z9hG4bK9ikj8  ,',
      ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
      ' z9hG4bK30239',
      'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
      '      newvalue ;',
      '  secondparam ; q = 0.33',
    ], SDP));
    assert.equal(m.method, 'INVITE');
    assert.deepEqual([...(m.uri as SipUri).params], [['unknownparam', null]]);
    assert.equal(getTo(m).params.get('tag'), '1918181833n');
    assert.equal(getFrom(m).displayName, 'J Rosenberg \\"');
    assert.equal(getFrom(m).params.get('tag'), '98asjd8');
    assert.equal(getMaxForwards(m), 68);
    assert.deepEqual(getCSeq(m), { seq: 9, method: 'INVITE' });
    assert.deepEqual(getVias(m).map((v) => [v.transport, v.host, v.params.get('branch')]), [
      ['UDP', '192.0.2.2', '390skdjuw'], ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'], ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.equal(m.headers.get('Subject'), '');
    assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    const contacts = getContacts(m);
    assert.ok(contacts !== '*');
    assert.equal(contacts[0]!.displayName, 'Quoted string ""');
    assert.deepEqual([...contacts[0]!.params], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    assert.equal(m.body.toString(), SDP);
  });

  it('§3.1.1.2 intmeth: a wide range of valid characters, an unknown method, escaped controls, UTF-8', () => {
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    const m = request(Buffer.concat([
      Buffer.from(`${method} sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n`),
      Buffer.from("Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"),
      // quoted-pairs carrying BEL, NUL and DEL
      Buffer.from('To: "BEL:\\'), Buffer.from([0x07]), Buffer.from(' NUL:\\'), Buffer.from([0x00]), Buffer.from(' DEL:\\'),
      Buffer.from([0x7f]), Buffer.from('" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>\r\n'),
      Buffer.from("From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>\r\n ;fromParam''~+*_!.-%=\r\n \"работающий\"\r\n ;tag=_token~1'+`*%!-.\r\n"),
      Buffer.from("Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"),
      Buffer.from(`CSeq: 139122385 ${method}\r\n`),
      Buffer.from('Max-Forwards: 255\r\n'),
      Buffer.from("extensionHeader-!.%*+_`'~:\uFEFF大停電\r\n"),
      Buffer.from('Content-Length: 0\r\n\r\n'),
    ]));
    assert.equal(m.method, method);
    const uri = m.uri as SipUri;
    assert.equal(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(getTo(m).displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(getFrom(m).displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(getFrom(m).params.get("fromparam''~+*_!.-%"), '"работающий"');
    assert.equal(getFrom(m).params.get('tag'), "_token~1'+`*%!-.");
    assert.equal(getCallId(m), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert.equal(getCSeq(m).method, method);
    assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), '\uFEFF大停電', 'the BOM is part of the value');
  });

  it('§3.1.1.3 esc01: valid use of the % escaping mechanism', () => {
    const m = request(msg([
      'INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0',
      'To: sip:%75se%72@example.com',
      'From: <sip:I%20have%20spaces@example.net>;tag=938',
      'Max-Forwards: 87',
      'i: esc01.239409asdfakjkn23onasd0-3234',
      'CSeq: 234234 INVITE',
      'Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw',
      'C: application/sdp',
      'Contact:',
      '  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>',
      'Content-Length: {CL}',
    ], SDP));
    assert.equal((m.uri as SipUri).user, 'sips%3Auser%40example.com');
    assert.equal((getTo(m).uri as SipUri).user, '%75se%72');
    assert.equal((getFrom(m).uri as SipUri).user, 'I%20have%20spaces');
    const contacts = getContacts(m);
    assert.ok(contacts !== '*');
    assert.deepEqual([...(contacts[0]!.uri as SipUri).params], [['%6c%72', null], ['n%61me', 'v%61lue%25%34%31']]);
  });

  it('§3.1.1.4 escnull: escaped nulls in URIs register two distinct contacts', () => {
    const m = request(msg([
      'REGISTER sip:example.com SIP/2.0',
      'To: sip:null-%00-null@example.com',
      'From: sip:null-%00-null@example.com;tag=839923423',
      'Max-Forwards: 70',
      'Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd',
      'CSeq: 14398234 REGISTER',
      'Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw',
      'Contact: <sip:%00@host5.example.com>',
      'Contact: <sip:%00%00@host5.example.com>',
      'L:0',
    ]));
    assert.equal((getTo(m).uri as SipUri).user, 'null-%00-null');
    const contacts = getContacts(m);
    assert.ok(contacts !== '*');
    assert.deepEqual(contacts.map((c) => (c.uri as SipUri).user), ['%00', '%00%00']);
  });

  it('§3.1.1.5 esc02: % where it is not an escape (method, display name, header name)', () => {
    const m = request(msg([
      'RE%47IST%45R sip:registrar.example.com SIP/2.0',
      'To: "%Z%45" <sip:resource@example.com>',
      'From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23',
      'Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf',
      'Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209asdjf',
      'CSeq: 29344 RE%47IST%45R',
      'Max-Forwards: 70',
      'Contact: <sip:alias1@host1.example.com>',
      'C%6Fntact: <sip:alias2@host2.example.com>',
      'Contact: <sip:alias3@host3.example.com>',
      'l: 0',
    ]));
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(getTo(m).displayName, '%Z%45');
    assert.equal(m.headers.getAll('Contact').length, 2);
    assert.equal(m.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
  });

  it('§3.1.1.6 lwsdisp: no LWS between a display name and "<"', () => {
    const m = request(msg([
      'OPTIONS sip:user@example.com SIP/2.0',
      'To: sip:user@example.com',
      'From: caller<sip:caller@example.com>;tag=323',
      'Max-Forwards: 70',
      'Call-ID: lwsdisp.1234abcd@funky.example.com',
      'CSeq: 60 OPTIONS',
      'Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw',
      'l: 0',
    ]));
    assert.equal(getFrom(m).displayName, 'caller');
  });

  it('§3.1.1.7 longreq: header fields with many values and very long values', () => {
    const long = 'longreq'.repeat(60);
    const vias = Array.from({ length: 40 }, (_, i) => `Via: SIP/2.0/TCP sip${i}.example.com;branch=z9hG4bK${long.slice(0, 100)}${i}`);
    const m = request(msg([
      `INVITE sip:user@example.com SIP/2.0`,
      `To: "I have a user name of ${'extreme'.repeat(10)} proportion" <sip:user@example.com:6000;unknownparam1=very${'long'.repeat(40)}value;longparam${'name'.repeat(30)}=shortvalue>`,
      `From: sip:caller@example.net;tag=${'12982982'.repeat(30)}`,
      `Call-ID: longreq.one${'really'.repeat(50)}longcallid`,
      'CSeq: 3882340 INVITE',
      `Unknown-${'Long'.repeat(60)}-Name: unknown-${'long'.repeat(60)}-value; unknown-${'long'.repeat(30)}-parameter-name = unknown-${'long'.repeat(30)}-parameter-value`,
      ...vias,
      'Max-Forwards: 70',
      `Contact: <sip:amazinglylongcallername${'x'.repeat(500)}@host5.example.net>`,
      'Content-Type: application/sdp',
      'l: {CL}',
    ], SDP));
    assert.equal(getVias(m).length, 40);
    assert.equal(getFrom(m).params.get('tag'), '12982982'.repeat(30));
    assert.ok(getTo(m).displayName!.includes('extremeextreme'));
  });

  it('§3.1.1.8 dblreq: extra trailing octets in a UDP datagram are ignored (RFC 3261 §18.3)', () => {
    const invite = msg([
      'INVITE sip:joe@example.com SIP/2.0',
      't: sip:joe@example.com',
      'From: sip:caller@example.net;tag=141334',
      'Max-Forwards: 8',
      'Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP);
    const register = msg([
      'REGISTER sip:example.com SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:j.user@example.com;tag=43251j3j324',
      'Max-Forwards: 8',
      'I: dblreq.0ha0isndaksdj99sdfafnl3lk233412',
      'Contact: sip:j.user@host.example.com',
      'CSeq: 8 REGISTER',
      'Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492',
      'Content-Length: 0',
    ]);
    const m = request(Buffer.concat([register, invite]));
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.body.length, 0);
  });

  it('§3.1.1.9 semiuri: a semicolon-separated parameter in the user part of the Request-URI', () => {
    const m = request(msg([
      'OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0',
      'To: sip:j_user@example.com',
      'From: sip:caller@example.org;tag=33242',
      'Max-Forwards: 3',
      'Call-ID: semiuri.0ha0isndaksdj',
      'CSeq: 8 OPTIONS',
      'Accept: application/sdp, application/pkcs7-mime,',
      '        multipart/mixed, multipart/signed,',
      '        message/sip, message/sipfrag',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw',
      'l: 0',
    ]));
    assert.equal((m.uri as SipUri).user, 'user;par=u%40example.net');
    assert.equal((m.uri as SipUri).params.size, 0);
    assert.equal(m.headers.getAll('Accept').length, 6);
  });

  it('§3.1.1.10 transports: varied and unknown transport types', () => {
    const m = request(msg([
      'OPTIONS sip:user@example.com SIP/2.0',
      'To: sip:user@example.com',
      'From: <sip:caller@example.com>;tag=323',
      'Max-Forwards: 70',
      'Call-ID:  transports.kijh4akdnaqjkwendsasfdj',
      'Accept: application/sdp',
      'CSeq: 60 OPTIONS',
      'Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw',
      'Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf',
      'Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj',
      'Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en',
      'Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee',
      'l: 0',
    ]));
    assert.deepEqual(getVias(m).map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('§3.1.1.11 mpart01: a multipart MIME MESSAGE with a binary part holding NULs and blank lines', () => {
    const binary = Buffer.from([0x30, 0x82, 0x01, 0x52, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]);
    const body = Buffer.concat([
      Buffer.from('--7a9cbec02ceef655\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nHello\r\n'),
      Buffer.from('--7a9cbec02ceef655\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      binary,
      Buffer.from('\r\n--7a9cbec02ceef655--\r\n'),
    ]);
    const m = request(msg([
      'MESSAGE sip:kumiko@example.org SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport',
      'Max-Forwards: 70',
      'Route: <sip:127.0.0.1:5080>',
      'Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=',
      'Contact: <sip:fluffy@127.0.0.1:5070>',
      'To: <sip:kumiko@example.org>',
      'From: <sip:fluffy@example.com>;tag=2fb0dcc9',
      'Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..',
      'CSeq: 1 MESSAGE',
      'Content-Transfer-Encoding: binary',
      'Content-Type: multipart/mixed;boundary=7a9cbec02ceef655',
      'Date: Sat, 15 Oct 2005 04:44:56 GMT',
      'User-Agent: SIPimp.org/0.2.5 (curses)',
      'Content-Length: {CL}',
    ], body));
    assert.deepEqual(m.body, body);
  });

  it('§3.1.1.12 unreason: an unusual reason phrase with non-ASCII UTF-8', () => {
    const m = parses(msg([
      'SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое',
      'Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923',
      'Call-ID: unreason.1234ksdfak3j2erwedfsASdf',
      'CSeq: 35 INVITE',
      'From: sip:user@example.com;tag=11141343',
      'To: sip:user@example.edu;tag=2229',
      'Content-Length: {CL}',
      'Content-Type: application/sdp',
      'Contact: <sip:user@host198.example.com>',
    ], SDP));
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 200);
    assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  });

  it('§3.1.1.13 noreason: an empty reason phrase', () => {
    const m = parses(msg([
      'SIP/2.0 100 ',
      'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe',
      'Call-ID: noreason.asndj203insdf99223ndf',
      'CSeq: 35 INVITE',
      'From: <sip:user@example.com>;tag=39ansfi3',
      'To: <sip:user@example.edu>;tag=902jndnke3',
      'Content-Length: 0',
      'Contact: <sip:user@host105.example.com>',
    ]));
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  it('§3.1.2.1 badinv01: extraneous header field separators — "should respond with a 400"', () => {
    rejects(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=134161461246',
      'Max-Forwards: 7',
      'Call-ID: badinv01.0ha0isndaksdjasdf3234nas',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.15;;,;,,',
      'Contact: "Joe" <sip:joe@example.org>;;;;',
      'Content-Length: {CL}',
      'Content-Type: application/sdp',
    ], SDP), /^Bad Via header: empty parameter/, true);
  });

  it('§3.1.2.2 clerr: Content-Length larger than the message — "should respond with a 400" (over UDP)', () => {
    rejects(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'Max-Forwards: 80',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=93942939o2',
      'Contact: <sip:caller@hungry.example.net>',
      'Call-ID: clerr.0ha0isndaksdjweiafasdk3',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523',
      'Content-Type: application/sdp',
      'Content-Length: 9999',
    ], SDP), /^Content-Length larger than the body$/, true);
  });

  it('§3.1.2.3 ncl: a negative Content-Length — "should respond with an error"', () => {
    rejects(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'Max-Forwards: 254',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=32394234',
      'Call-ID: ncl.0ha0isndaksdj2193423r542w35',
      'CSeq: 0 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw',
      'Contact: <sip:caller@example53.example.net>',
      'Content-Type: application/sdp',
      'Content-Length: -999',
    ], SDP), /^Bad Content-Length header$/, true);
  });

  it('§3.1.2.4 scalar02: request scalar fields with overlarge values — "400 due to the CSeq error"', () => {
    rejects(msg([
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3',
      'To: <sip:user@example.com>',
      'From: <sip:user@example.com>;tag=239232jh3',
      'CSeq: 36893488147419103232 REGISTER',
      'Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32',
      'Max-Forwards: 300',
      `Expires: 1${'0'.repeat(100)}`,
      'Contact: <sip:user@host129.example.com>;expires=280297596632815',
      'Content-Length: 0',
    ]), /^Bad CSeq header/, true);
  });

  it('§3.1.2.5 scalarlg: response scalar fields with overlarge values — "simply discard it"', () => {
    rejects(msg([
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129',
      'To: <sip:user@example.com>',
      'From: <sip:other@example.net>;tag=2easdjfejw',
      'CSeq: 9292394834772304023312 OPTIONS',
      'Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r',
      'Retry-After: 949302838503028349304023988',
      'Warning: 1812 overture "In Progress"',
      'Content-Length: 0',
    ]), /^Bad CSeq header/, false);
  });

  it('§3.1.2.6 quotbal: unterminated quoted string in a display name — "should return a 400"', () => {
    rejects(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'To: "Mr. J. User <sip:j.user@example.com>',
      'From: sip:caller@example.net;tag=93334',
      'Max-Forwards: 10',
      'Call-ID: quotbal.aksdj',
      'Contact: <sip:caller@host59.example.net>',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP), /^Bad To header: unterminated/, true);
  });

  it('§3.1.2.7 ltgtruri: a Request-URI enclosed in <> — "reasonable always to reject with a 400"', () => {
    const e = rejects(msg([
      'INVITE <sip:user@example.com> SIP/2.0',
      'To: sip:user@example.com',
      'From: sip:caller@example.net;tag=39291',
      'Max-Forwards: 23',
      'Call-ID: ltgtruri.1@192.0.2.5',
      'CSeq: 1 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.5',
      'Contact: <sip:caller@host5.example.net>',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP), /^Bad Request-URI: bad URI: bad scheme$/, true);
    assert.deepEqual((e.partial as SipRequest).uri, { scheme: '', opaque: '<sip:user@example.com>' });
  });

  it('§3.1.2.8 lwsruri: embedded LWS in the Request-URI — "should respond with a 400"', () => {
    const e = rejects(msg([
      'INVITE sip:user@example.com; lr SIP/2.0',
      'To: sip:user@example.com;tag=3xfe-9921883-z9f',
      'From: sip:caller@example.net;tag=231413434',
      'Max-Forwards: 5',
      'Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423',
      'CSeq: 2130706432 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395',
      'Contact: <sip:caller@host1.example.net>',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP), /^Bad request line$/, true);
    assert.equal((e.partial as SipRequest).method, 'INVITE');
  });

  it('§3.1.2.9 lwsstart: multiple SP between request-line elements — "acceptable to reject" (we do, with 400)', () => {
    const e = rejects(msg([
      'INVITE  sip:user@example.com  SIP/2.0',
      'Max-Forwards: 8',
      'To: sip:user@example.com',
      'From: sip:caller@example.net;tag=8814',
      'Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com',
      'CSeq: 1893884 INVITE',
      'Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923',
      'Contact: <sip:caller@host1.example.net>',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP), /^Bad request line: extra whitespace$/, true);
    assert.equal(formatUri((e.partial as SipRequest).uri), 'sip:user@example.com');
  });

  it('§3.1.2.10 trws: SP at the end of the request line — "acceptable to reject" (we do, with 400)', () => {
    rejects(msg([
      'OPTIONS sip:remote-target@example.com SIP/2.0  ',
      'Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093',
      'To: <sip:remote-target@example.com>',
      'From: <sip:local-resource@example.com>;tag=329429089',
      'Call-ID: trws.oicu34958239neffasdhr2345r',
      'Accept: application/sdp',
      'CSeq: 238923 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
    ]), /^Bad request line: extra whitespace$/, true);
  });

  it('§3.1.2.11 escruri: escaped headers in the Request-URI — "acceptable to reject with a 400" (we do)', () => {
    rejects(msg([
      'INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0',
      'To: sip:user@example.com',
      'From: sip:caller@example.net;tag=341518',
      'Max-Forwards: 7',
      'Contact: <sip:caller@host39923.example.net>',
      'Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5',
      'CSeq: 149209342 INVITE',
      'Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP), /^Bad Request-URI: headers not allowed$/, true);
  });

  it('§3.1.2.12 baddate: a non-GMT Date — "shouldn\'t reject unless Date matters": accepted, Date is not used', () => {
    const m = request(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'To: sip:user@example.com',
      'From: sip:caller@example.net;tag=2234923',
      'Max-Forwards: 70',
      'Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234',
      'CSeq: 1392934 INVITE',
      'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw',
      'Date: Fri, 01 Jan 2010 16:00:00 EST',
      'Contact: <sip:caller@host5.example.net>',
      'Content-Type: application/sdp',
      'Content-Length: {CL}',
    ], SDP));
    assert.equal(m.headers.get('Date'), 'Fri, 01 Jan 2010 16:00:00 EST');
  });

  it('§3.1.2.13 regbadct: an addr-spec Contact with an escaped header — "reasonable to respond 400" (we do)', () => {
    rejects(msg([
      'REGISTER sip:example.com SIP/2.0',
      'To: sip:user@example.com',
      'From: sip:user@example.com;tag=998332',
      'Max-Forwards: 70',
      'Call-ID: regbadct.k345asrl3fdbv@10.0.0.1',
      'CSeq: 1 REGISTER',
      'Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw',
      'Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E',
      'l: 0',
    ]), /^Bad Contact header: .*enclosed in '<>'/, true);
  });

  it('§3.1.2.14 badaspec: spaces within an addr-spec — "reasonable to reject with a 400" (we do)', () => {
    rejects(msg([
      'OPTIONS sip:user@example.org SIP/2.0',
      'Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234',
      'Max-Forwards: 70',
      'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423',
      'To: "Watson, Thomas" < sip:t.watson@example.org >',
      'Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3',
      'Accept: application/sdp',
      'CSeq: 3923239 OPTIONS',
      'l: 0',
    ]), /^Bad To header: whitespace inside '<>'$/, true);
  });

  it('§3.1.2.15 baddn: non-token characters in an unquoted display name — "reasonable always to reject" (400)', () => {
    rejects(msg([
      'OPTIONS sip:t.watson@example.org SIP/2.0',
      'Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw',
      'Max-Forwards:      70',
      'From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43',
      'To:      Watson, Thomas <sip:t.watson@example.org>',
      'Call-ID: baddn.31415@c.example.com',
      'Accept: application/sdp',
      'CSeq:    3923239 OPTIONS',
      'l: 0',
    ]), /^Bad From header: invalid character ','/, true);
  });

  it('§3.1.2.16 badvers: an unknown protocol version — "should respond with 505"', () => {
    const e = rejects(msg([
      'OPTIONS sip:t.watson@example.org SIP/7.0',
      'Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw',
      'Max-Forwards:     70',
      'From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe',
      'To:      T. Watson <sip:t.watson@example.org>',
      'Call-ID: badvers.31417@c.example.com',
      'CSeq:    1 OPTIONS',
      'l: 0',
    ]), /^Version not supported$/, true);
    assert.equal(e.code, 'SIP_VERSION_NOT_SUPPORTED');
  });

  it('§3.1.2.17 mismatch01: start line and CSeq method mismatch — "will respond with a 400"', () => {
    rejects(msg([
      'OPTIONS sip:user@example.com SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=34525',
      'Max-Forwards: 6',
      'Call-ID: mismatch01.dj0234sxdfl3',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw',
      'l: 0',
    ]), /^CSeq method does not match the request method$/, true);
  });

  it('§3.1.2.18 mismatch02: unknown method with CSeq mismatch — "501 preferred, 400 acceptable" (we give 400)', () => {
    rejects(msg([
      'NEWMETHOD sip:user@example.com SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=34525',
      'Max-Forwards: 6',
      'Call-ID: mismatch02.dj0234sxdfl3',
      'CSeq: 8 INVITE',
      'Contact: <sip:caller@host.example.net>',
      'Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw',
      'Content-Type: application/sdp',
      'l: {CL}',
    ], SDP), /^CSeq method does not match the request method$/, true);
  });

  it('§3.1.2.19 bigcode: an overlarge response code — "simply drop it"', () => {
    rejects(msg([
      'SIP/2.0 4294967301 better not break the receiver',
      'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe',
      'Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i',
      'CSeq: 353494 INVITE',
      'From: <sip:user@example.com>;tag=39ansfi3',
      'To: <sip:user@example.edu>;tag=902jndnke3',
      'Content-Length: 0',
      'Contact: <sip:user@host105.example.com>',
    ]), /^Bad status line$/, false);
  });
});

describe('RFC 4475 §3.2–§3.4: well formed for a parser, handled above it', () => {
  const base = (method: string, extra: string[] = []) => [
    `${method} sip:user@example.com SIP/2.0`,
    'To: sip:user@example.com',
    'From: <sip:caller@example.net>;tag=323',
    'Max-Forwards: 70',
    `Call-ID: app.${method}@example.net`,
    `CSeq: 1 ${method}`,
    'Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw',
    ...extra,
  ];

  it('§3.2.1 badbranch: a branch without the magic cookie parses (matching is the transaction layer\'s)', () => {
    const m = request(msg([...base('OPTIONS').slice(0, -1), 'Via: SIP/2.0/UDP 192.0.2.1;branch=kdjuw', 'l: 0']));
    assert.equal(getVias(m)[0]!.params.get('branch'), 'kdjuw');
  });

  it('§3.3.1 insuf: missing Call-ID, From and To — "must not break"; no 400 can copy them, so it is dropped', () => {
    rejects(msg([
      'INVITE sip:user@example.com SIP/2.0',
      'CSeq: 193942 INVITE',
      'Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf',
      'Content-Type: application/sdp',
      'l: {CL}',
    ], SDP), /^Missing (From|To|Call-ID) header$/, false);
  });

  it('§3.3.2 unkscm / §3.3.3 novelsc: unknown or atypical Request-URI schemes parse (416 is the UA\'s answer)', () => {
    const unk = request(msg(['OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0', ...base('OPTIONS').slice(1), 'l: 0']));
    assert.deepEqual(unk.uri, { scheme: 'nobodyknowsthisscheme', opaque: 'totallyopaquecontent' });
    const novel = request(msg(['OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0', ...base('OPTIONS').slice(1), 'l: 0']));
    assert.deepEqual(novel.uri, { scheme: 'soap.beep', opaque: '//192.0.2.103:3002' });
  });

  it('§3.3.4 unksm2: unknown schemes in To, From and Contact parse', () => {
    const m = request(msg([
      'REGISTER sip:example.com SIP/2.0',
      'To: isbn:2983792873',
      'From: <http://www.example.com>;tag=3234233',
      'Call-ID: unksm2.daksdj@hyphenated-host.example.com',
      'CSeq: 234902 REGISTER',
      'Max-Forwards: 70',
      'Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw',
      'Contact: <name:John_Smith>',
      'l: 0',
    ]));
    assert.deepEqual(getTo(m).uri, { scheme: 'isbn', opaque: '2983792873' });
    assert.deepEqual(getFrom(m).uri, { scheme: 'http', opaque: '//www.example.com' });
  });

  it('§3.3.5 bext01: unknown Require / Proxy-Require options parse (420 is the UA\'s answer)', () => {
    const m = request(msg(base('OPTIONS', ['Require: nothingSupportsThis, nothingSupportsThisEither', 'Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis', 'l: 0'])));
    assert.deepEqual(m.headers.getAll('Require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
  });

  it('§3.3.6 invut / §3.3.15 sdp01: an unknown Content-Type or Accept parses', () => {
    request(msg(base('INVITE', ['Contact: <sip:caller@host5.example.net>', 'Content-Type: application/unknownformat', 'Content-Length: {CL}']), '<audio> <pcmu port="443"/> </audio>\r\n'));
    request(msg(base('INVITE', ['Contact: <sip:caller@host5.example.net>', 'Accept: text/nobodyKnowsThis', 'Content-Type: application/sdp', 'l: {CL}']), SDP));
  });

  it('§3.3.7 regaut01: an unknown authorization scheme parses', () => {
    const m = request(msg(base('REGISTER', ['Contact: <sip:user@host.example.com>', 'Authorization: NoOneKnowsThisScheme opaque-data=here', 'l: 0'])));
    assert.equal(parseAuthHeader(m.headers.get('Authorization')!).scheme, 'NoOneKnowsThisScheme');
  });

  it('§3.3.8 multi01: several values in single-value fields — "would respond with a 400"', () => {
    rejects(msg([
      'INVITE sip:user@company.com SIP/2.0',
      'Contact: <sip:caller@host25.example.net>',
      'Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw',
      'Max-Forwards: 70',
      'CSeq: 5 INVITE',
      'Call-ID: multi01.98asdh@192.0.2.1',
      'CSeq: 59 INVITE',
      'Call-ID: multi01.98asdh@192.0.2.2',
      'From: sip:caller@example.com;tag=3413415',
      'To: sip:user@example.com',
      'To: sip:other@example.net',
      'From: sip:caller@example.net;tag=2923420123',
      'Content-Type: application/sdp',
      'l: {CL}',
      'Call-ID: multi01.98asdh@192.0.2.3',
      'Max-Forwards: 5',
    ], SDP), /^Multiple (CSeq|Call-ID|To|From|Max-Forwards) headers$/, true);
  });

  it('§3.3.9 mcl01: multiple Content-Length values — "should respond with an error" (on a stream: close)', () => {
    rejects(msg([
      'OPTIONS sip:user@example.com SIP/2.0',
      'Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423',
      'To: sip:user@example.com',
      'From: sip:other@example.net;tag=3923942',
      'Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf',
      'CSeq: 15932 OPTIONS',
      'Content-Length: 13',
      'Max-Forwards: 60',
      'Content-Length: 5',
      'Content-Type: text/plain',
    ], "There's no way to know how many octets are supposed to be here.\r\n"), /^Multiple Content-Length headers$/, true);
  });

  it('§3.3.10 bcast: a 200 with a broadcast Via is well formed ("parsers must not fail")', () => {
    const m = parses(msg([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923',
      'Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23',
      'Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf',
      'CSeq: 35 INVITE',
      'From: sip:user@example.com;tag=11141343',
      'To: sip:user@example.edu;tag=2229',
      'Content-Length: {CL}',
      'Content-Type: application/sdp',
      'Contact: <sip:user@host28.example.com>',
    ], SDP));
    assert.equal(getVias(m)[1]!.host, '255.255.255.255');
  });

  it('§3.3.11 zeromf: Max-Forwards of zero parses', () => {
    assert.equal(getMaxForwards(request(msg([...base('OPTIONS').map((l) => l.replace('Max-Forwards: 70', 'Max-Forwards: 0')), 'l: 0']))), 0);
  });

  it('§3.3.12 cparam01 / §3.3.13 cparam02: contact-params versus URI parameters', () => {
    const header = request(msg(base('REGISTER', ['Contact: sip:user@host.example.com;unknownparam', 'l: 0'])));
    const c1 = getContacts(header);
    assert.ok(c1 !== '*');
    assert.equal((c1[0]!.uri as SipUri).params.size, 0);
    assert.deepEqual([...c1[0]!.params], [['unknownparam', null]]);
    const uri = request(msg(base('REGISTER', ['Contact: <sip:user@host.example.com;unknownparam>', 'l: 0'])));
    const c2 = getContacts(uri);
    assert.ok(c2 !== '*');
    assert.deepEqual([...(c2[0]!.uri as SipUri).params], [['unknownparam', null]]);
    assert.equal(c2[0]!.params.size, 0);
  });

  it('§3.3.14 regescrt: a Contact URI with an escaped header inside <> parses and keeps it', () => {
    const m = request(msg(base('REGISTER', ['Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>', 'l: 0'])));
    const c = getContacts(m);
    assert.ok(c !== '*');
    assert.deepEqual([...(c[0]!.uri as SipUri).headers], [['Route', '%3Csip:sip.example.com%3E']]);
  });

  it('§3.4.1 inv2543: an RFC 2543 INVITE (no branch, no Max-Forwards, no Content-Length) parses', () => {
    const m = request(msg([
      'INVITE sip:UserB@example.com SIP/2.0',
      'Via: SIP/2.0/UDP iftgw.example.com',
      'From: <sip:+13035551111@ift.client.example.net;user=phone>',
      'Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>',
      'To: sip:+16505552222@ss1.example.net;user=phone',
      'Call-ID: inv2543.1717@ift.client.example.com',
      'CSeq: 56 INVITE',
      'Content-Type: application/sdp',
    ], SDP));
    assert.equal(getMaxForwards(m), undefined);
    assert.equal(m.body.toString(), SDP, 'no Content-Length on UDP: the rest of the datagram');
    assert.deepEqual([...getTo(m).params], [['user', 'phone']]);
  });
});
