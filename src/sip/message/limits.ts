/** Size limits shared by the datagram parser and the stream framer ("Bad input" in issue 2: refuse, never hang). */

/** The largest message accepted by default: the largest UDP payload (also the config default sipMaxMessageBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_535;
/** The largest header section (start line, headers and the empty line) on any transport. */
export const MAX_HEADER_BYTES = 65_536;
