/**
 * Lists of flat objects as CSV (RFC 4180 quoting), safe to open in a spreadsheet: a text cell that starts with `=`, `+`,
 * `-`, `@`, a tab or a carriage return would be read as a formula (CSV injection: `=HYPERLINK(…)`, DDE `=cmd|…`), so it
 * gets a leading `'` — OWASP's advice, and what spreadsheets show as plain text. Computer names, titles and reasons come
 * from clients and catalogs, not from us. Numbers are values, not text: -1 stays -1.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = '';
  else if (typeof v === 'number' || typeof v === 'bigint') s = String(v);
  else {
    s = Array.isArray(v) ? v.join('; ') : String(v);
    if (FORMULA_START.test(s)) s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A report's columns, in order. Made by `csvColumns` from an object literal naming every key of the row type once, so
 * a column left out, misspelled or added to the type without a column is a compile error — and the header does not
 * depend on there being a first row (an empty report is its header alone, which tools read as "no rows", not as a
 * malformed file).
 */
export type CsvColumns<T> = readonly (keyof T & string)[];

export function csvColumns<T extends object>(keys: { readonly [K in keyof T & string]-?: true }): CsvColumns<T> {
  return Object.keys(keys) as (keyof T & string)[];
}

/** `rows` as CSV: the header, then one line per row, each cell by the columns' order. */
export function toCsv<T extends object>(rows: readonly T[], columns: CsvColumns<T>): string {
  const lines = [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((k) => csvCell(r[k])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
