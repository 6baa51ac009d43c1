/** The catalog in service and the sync history (/sync). */
import type { SiteStore } from '../../store/port.js';
import { esc, layout, num } from './html.js';

export async function syncPage(store: SiteStore): Promise<string> {
  const cat = await store.currentCatalog();
  const msgs = await store.syncMessages(100);
  return layout('Sync', `<h1>Catalog sync</h1>
<p data-testid="catalog-in-service">${cat ? `In service: <b>${esc(cat.sha256)}</b> — ${num(cat.revisions)} revisions, imported ${esc(cat.imported_at)}, ${cat.signer ? `signed by ${esc(cat.signer)}${cat.signed_at ? ` on ${esc(cat.signed_at)}` : ''}` : 'unsigned'}` : 'No catalog in service yet.'}</p>
<table data-testid="sync-messages"><tr><th>Time</th><th>Message</th><th>Severity</th><th>Text</th></tr>
${msgs.map((m) => `<tr><td>${esc(m.at)}</td><td>${m.message_id}</td><td>${esc(m.severity)}</td><td>${esc(m.text)}</td></tr>`).join('')}
</table>`);
}

