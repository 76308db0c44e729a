/**
 * The REST methods callhook knows (`callhook show rest-methods`): exactly the table of
 * docs/hooks.md "Methods", in its order, with the WCS method type of each
 * (docs/hooks.md "Methods": the four method types). The method name, with its exact case, is the last path segment
 * of the hook URL, so nothing here may be renamed.
 */

/** WCS's four method types: what a backend's answer (or failure) means depends on them (docs/hooks.md "The response" table). */
export type MethodType = 'connect' | 'direct' | 'event' | 'incoming';

export const REST_METHODS = [
  { name: 'connect', type: 'connect' },
  { name: 'ConnectionStatusEvent', type: 'event' },
  { name: 'RegistrationStatusEvent', type: 'event' },
  { name: 'call', type: 'direct' },
  { name: 'answer', type: 'direct' },
  { name: 'hangup', type: 'direct' },
  { name: 'hold', type: 'direct' },
  { name: 'unhold', type: 'direct' },
  { name: 'transfer', type: 'direct' },
  { name: 'sendDtmf', type: 'direct' },
  { name: 'CallStatusEvent', type: 'event' },
  { name: 'OnCallEvent', type: 'incoming' },
  { name: 'TransferStatusEvent', type: 'event' },
  { name: 'sendMessage', type: 'direct' },
  { name: 'MessageStatusEvent', type: 'event' },
  { name: 'OnMessageEvent', type: 'incoming' },
  { name: 'ErrorStatusEvent', type: 'event' },
  // callhook's own, not WCS's: a call's detail record once it has ended (docs/hooks.md "CallDetailRecord").
  { name: 'CallDetailRecord', type: 'event' },
  // callhook's own: a DTMF digit received on any call, RFC 4733 or SIP INFO (docs/hooks.md "OnDtmfEvent").
  { name: 'OnDtmfEvent', type: 'event' },
] as const satisfies ReadonlyArray<{ name: string; type: MethodType }>;

export type RestMethod = (typeof REST_METHODS)[number]['name'];

/** Methods whose hook decides (connect, direct, incoming): called through `HookEngine.invoke`. */
export type DecisionMethod = Extract<(typeof REST_METHODS)[number], { type: 'connect' | 'direct' | 'incoming' }>['name'];
/** Methods that report what already happened: delivered through the outbox by `HookEngine.emit`. */
export type EventMethod = Extract<(typeof REST_METHODS)[number], { type: 'event' }>['name'];

const TYPE_BY_NAME: ReadonlyMap<string, MethodType> = new Map(REST_METHODS.map((m) => [m.name, m.type]));

export const REST_METHOD_NAMES: readonly RestMethod[] = REST_METHODS.map((m) => m.name);

export function isRestMethod(name: string): name is RestMethod {
  return TYPE_BY_NAME.has(name);
}

/** The method type, or undefined for a name that is not in the table. */
export function methodType(name: string): MethodType | undefined {
  return TYPE_BY_NAME.get(name);
}
