/**
 * Any list of flat objects as CSV (header from the first row's keys; RFC 4180 quoting), safe to open in a
 * spreadsheet: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula
 * (CSV injection: `=HYPERLINK(…)`, DDE `=cmd|…`), so it gets a leading `'` — OWASP's advice, and what spreadsheets
 * show as plain text. Computer names, titles and reasons come from clients and catalogs, not from us. Numbers are
 * values, not text: -1 stays -1.
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

export function toCsv(rows: readonly object[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  const lines = [keys.map(csvCell).join(','), ...rows.map((r) => keys.map((k) => csvCell((r as Record<string, unknown>)[k])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
