/** Any list of flat objects as CSV (header from the first row's keys; RFC 4180 quoting). */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join('; ') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(rows: readonly object[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  const lines = [keys.join(','), ...rows.map((r) => keys.map((k) => csvCell((r as Record<string, unknown>)[k])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
