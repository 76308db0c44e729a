/** Aligned plain-text tables and key/value blocks for people (`--json` prints data for scripts instead). */

export interface Column<T> {
  header: string;
  value(row: T): string;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded (long URLs, errors). */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `key: value` lines with the values aligned. */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${oneLine(v)}`).join('\n');
}

/** A cell is one line: a value with a newline (an error text, a raw SIP line) would break the alignment. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}

/** Shown in place of a secret that is set (`show apps -d`). */
export const MASK = '********';
/** Shown for an empty value. */
export const NONE = '-';
