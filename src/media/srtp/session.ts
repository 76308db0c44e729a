/**
 * The SRTP of one RTP leg: the context we send with and the one we receive with, each from the key of its side's
 * SDP (RFC 4568 §6.1: each side sends with the key it wrote into its own SDP).
 *
 * Keys change with each offer/answer exchange that carries new ones (re-keying on a re-INVITE, RFC 4568 §7.1.4). A
 * key that stays the same keeps its context, so the rollover counters and replay lists go on. After a change the
 * previous receiving context still decrypts what the peer sent before it switched: packets in flight, or a peer
 * that moves to its new key a little later than the exchange.
 */
import { SrtpContext } from './context.ts';
import type { SrtpKeys } from './suites.ts';

/** Both directions' keys after an exchange. */
export interface SrtpKeyPair {
  send: SrtpKeys;
  receive: SrtpKeys;
}

export class SrtpSession {
  private send: SrtpContext;
  private receive: SrtpContext;
  private previousReceive: SrtpContext | undefined;

  constructor(keys: SrtpKeyPair) {
    this.send = new SrtpContext(keys.send);
    this.receive = new SrtpContext(keys.receive);
  }

  /** The keys of a new exchange: contexts whose key changed start afresh. */
  update(keys: SrtpKeyPair): void {
    if (!sameKeys(this.send.keys, keys.send)) this.send = new SrtpContext(keys.send);
    if (!sameKeys(this.receive.keys, keys.receive)) {
      this.previousReceive = this.receive;
      this.receive = new SrtpContext(keys.receive);
    }
  }

  protectRtp(packet: Buffer): Buffer {
    return this.send.protectRtp(packet);
  }

  unprotectRtp(packet: Buffer): Buffer | undefined {
    return this.receive.unprotectRtp(packet) ?? this.previousReceive?.unprotectRtp(packet);
  }

  unprotectRtcp(packet: Buffer): Buffer | undefined {
    return this.receive.unprotectRtcp(packet) ?? this.previousReceive?.unprotectRtcp(packet);
  }
}

function sameKeys(a: SrtpKeys, b: SrtpKeys): boolean {
  return a.suite === b.suite && a.masterKey.equals(b.masterKey) && a.masterSalt.equals(b.masterSalt);
}
