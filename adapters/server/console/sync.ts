/** The catalog in service and the sync history (/sync). */
import { syncHistory, type SyncEvent } from '../../site/reports.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';

const COLUMNS: readonly Column<SyncEvent>[] = [
  { key: 'at', label: 'Time', value: (m) => m.at, cell: (m) => when(m.at) },
  { key: 'messageId', label: 'Message', value: (m) => m.messageId, numeric: true },
  { key: 'severity', label: 'Severity', value: (m) => m.severity },
  { key: 'text', label: 'Text', value: (m) => m.text },
];

const signature = (cat: { readonly signer: string | null; readonly signedAt: string | null }): string =>
  cat.signer ? `signed by ${esc(cat.signer)}${cat.signedAt ? ` on ${when(cat.signedAt)}` : ''}` : 'unsigned';

export async function syncPage({ store, lists }: PageContext): PageResult {
  const { catalog: cat, messages: msgs } = await syncHistory(store, 500);
  const table = lists.rows({
    id: 'sync-messages',
    main: true,
    columns: COLUMNS,
    all: msgs,
    defaultOrder: { key: 'at', dir: 'desc' },
    empty:
      '<p><b>No sync has run yet.</b> Run <code>patchscan sync</code> on the server (it downloads wsusscn2.cab from Microsoft, ' +
      'or takes <code>--source FILE</code>), or set <code>sync.source</code> in patchscan.json for a scheduled sync.</p>',
  });
  const inService = cat
    ? `In service: <b>${esc(cat.sha256)}</b> — ${num(cat.revisions)} revisions, imported ${when(cat.importedAt)}, ${signature(cat)}`
    : 'No catalog in service yet: run <code>patchscan sync</code>.';
  return layout(
    'Sync',
    `<h1>Catalog sync</h1>
<p data-testid="catalog-in-service">${inService}</p>
${table}`,
  );
}
