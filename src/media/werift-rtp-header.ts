/**
 * A fast path for werift's RTP header parser (issue 5, Speed).
 *
 * werift 0.24.4 parses the header of every SRTP packet it receives twice (once to authenticate and decrypt it,
 * once more to build the RtpPacket its transport emits), and its `RtpHeader.deSerialize` reads each bit field
 * through `getBit`, which formats the byte as a binary string, splits, pads, slices, joins and re-parses it: six
 * times per parse. In callhook's profile that was ~9 % of the relay's busy time, more than all of callhook's own code.
 *
 * werift's own code calls the static through the class (`RtpHeader.deSerialize(...)`), the same class its package
 * exports, so replacing the static here changes the parse everywhere in the process without editing werift. Only
 * the header browsers send on our audio (no CSRCs, no header extension: we negotiate none) takes the fast path, and
 * it builds the very same RtpHeader werift would: same fields, same values, a throw for a buffer too short (its
 * callers drop such a packet whatever the error). Anything else (CSRCs, an extension) goes to werift's parser unchanged.
 */
import { RtpHeader } from 'werift';

const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
/** The X bit and the CSRC count: any of them set leaves the packet to werift's parser. */
const EXTENSION_OR_CSRC = 0x1f;
const MARKER_BIT = 0x80;
const PT_MASK = 0x7f;
const FIXED_HEADER_SIZE = 12;

let installed = false;

/** Installs the fast path once per process; later calls do nothing. */
export function installFastRtpHeaderParse(): void {
  if (installed) return;
  installed = true;
  const original = RtpHeader.deSerialize.bind(RtpHeader);
  RtpHeader.deSerialize = (raw: Buffer): RtpHeader => {
    const b0 = raw[0]!;
    if ((b0 & EXTENSION_OR_CSRC) !== 0) return original(raw);
    // The class fields already hold what werift would set here: extension false, csrcLength 0, csrc [].
    const h = new RtpHeader();
    h.version = b0 >> VERSION_SHIFT;
    h.padding = (b0 & PADDING_BIT) !== 0;
    const b1 = raw[1]!;
    h.marker = (b1 & MARKER_BIT) !== 0;
    h.payloadType = b1 & PT_MASK;
    // As in werift's parser, a buffer too short for these reads throws (RangeError).
    h.sequenceNumber = raw.readUInt16BE(2);
    h.timestamp = raw.readUInt32BE(4);
    h.ssrc = raw.readUInt32BE(8);
    h.payloadOffset = FIXED_HEADER_SIZE;
    if (h.padding) h.paddingSize = raw[raw.length - 1]!;
    return h;
  };
}
