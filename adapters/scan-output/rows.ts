/** Scan rows as table, JSON, JSON Lines or CSV. */
import type { ScanRow } from '../../engine/scanner/scanner.js';
import { csvCell } from '../text/csv.js';

export type RowFormat = 'table' | 'json' | 'jsonl' | 'csv';

/** The columns of a scan row, in the order every row format writes them (CSV, Parquet). */
export const ROW_COLUMNS: readonly (keyof ScanRow)[] = [
  'computer',
  'updateId',
  'revisionNumber',
  'kb',
  'title',
  'classification',
  'severity',
  'type',
  'isBundle',
  'releaseDate',
  'cves',
  'moreInfoUrl',
  'state',
  'superseded',
  'possiblySuperseded',
  'reason',
];

export const CSV_HEADER = ROW_COLUMNS.join(',');

/** One CSV line (no line end) for a row; missing fields are empty cells. */
export function csvLine(row: Partial<Record<keyof ScanRow, unknown>>): string {
  return ROW_COLUMNS.map((c) => csvCell(row[c])).join(',');
}

export function formatRows(rows: readonly ScanRow[], format: RowFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
    case 'jsonl':
      return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    case 'csv':
      return [CSV_HEADER, ...rows.map(csvLine)].join('\r\n') + '\r\n';
    case 'table': {
      const head = ['Computer', 'KB', 'State', 'Sup', 'Classification', 'Severity', 'Title'];
      const body = rows.map((r) => [
        r.computer,
        r.kb ? `KB${r.kb}` : '-',
        r.state,
        r.superseded ? 'yes' : r.possiblySuperseded ? 'possibly' : '',
        r.classification || '-',
        r.severity || '-',
        r.title.length > 70 ? `${r.title.slice(0, 67)}...` : r.title,
      ]);
      const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
      const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const k = r.state + (r.superseded ? ' (superseded)' : r.possiblySuperseded ? ' (possibly superseded)' : '');
        counts[k] = (counts[k] ?? 0) + 1;
      }
      return (
        [
          line(head),
          line(widths.map((w) => '-'.repeat(w))),
          ...body.map(line),
          '',
          `${rows.length} row(s): ${
            Object.entries(counts)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || 'none'
          }`,
        ].join('\n') + '\n'
      );
    }
  }
}
