/** Reading and changing the ordered attribute lists of the SDP model (RFC 8866 §5.13). */
import type { Attribute } from './model.ts';

/** Value of the first `a=<name>:<value>`; '' for a property attribute; undefined when absent. */
export function attributeValue(attrs: readonly Attribute[], name: string): string | undefined {
  const a = attrs.find((x) => x.name === name);
  return a === undefined ? undefined : (a.value ?? '');
}

export function attributeValues(attrs: readonly Attribute[], name: string): string[] {
  return attrs.filter((a) => a.name === name).map((a) => a.value ?? '');
}

export function hasAttribute(attrs: readonly Attribute[], name: string): boolean {
  return attrs.some((a) => a.name === name);
}

/** Replaces every `a=<name>` with one line at the place of the first (or at the end). */
export function setAttribute(attrs: Attribute[], name: string, value?: string): void {
  const line: Attribute = value === undefined ? { name } : { name, value };
  const i = attrs.findIndex((a) => a.name === name);
  if (i < 0) {
    attrs.push(line);
    return;
  }
  attrs[i] = line;
  removeAttributes(attrs, (a, j) => j > i && a.name === name);
}

/** Removes the attributes named `which` (or matching it), in place. */
export function removeAttributes(attrs: Attribute[], which: string | ((a: Attribute, index: number) => boolean)): void {
  const drop = typeof which === 'string' ? (a: Attribute) => a.name === which : which;
  let w = 0;
  for (let r = 0; r < attrs.length; r++) {
    const a = attrs[r]!;
    if (!drop(a, r)) attrs[w++] = a;
  }
  attrs.length = w;
}
