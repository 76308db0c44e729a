/**
 * The SIP message layer (RFC 3261 §7, §18.3, §19, §20, §25): the model, parsing and serializing, and typed views of
 * the headers. Everything here is plain data and pure functions: no I/O, no timers.
 */
export * from './types.ts';
export { Headers, SipRequest, SipResponse, splitList, type SipMessage } from './message.ts';
export { canonicalHeaderName, checkExtensionHeader, LIST_HEADERS } from './header-names.ts';
export { quote, unquote } from './chars.ts';
export { formatParams, parseParams, type ParamSyntax } from './params.ts';
export { formatUri, parseUri } from './uri.ts';
export { formatNameAddr, parseNameAddr } from './name-addr.ts';
export {
  formatAuthHeader, formatVia, getCallId, getContacts, getCSeq, getExpires, getFrom, getMaxForwards, getTo, getVias,
  parseAuthHeader, parseCallId, parseContacts, parseCSeq, parseMaxForwards, parseVia, topVia,
} from './headers.ts';
export { parseMessage, type ParseOptions } from './parse.ts';
export { StreamFramer, type StreamFramerOptions } from './framer.ts';
export { DEFAULT_MAX_MESSAGE_BYTES, MAX_HEADER_BYTES } from './limits.ts';
export { messageText, serializeMessage } from './serialize.ts';
export {
  BRANCH_MAGIC_COOKIE, createAckForNon2xx, createCancel, createResponse, newBranch, newCallId, newTag, reasonPhrase,
  type ResponseOptions,
} from './builders.ts';
