/**
 * The demo's second half: a site in `dir` with the SQLite store — init, sync from the bundled corpus, enroll
 * `clients` machines of the fleet, serve on a loopback port, upload their inventories over HTTP (only the pilot
 * computer is scanned), unlimit the main collection, and show the fleet and one computer's compliance.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { serve } from '../server/server.js';
import { upload } from '../server/upload-client.js';
import { ensureObjects } from '../site/objects.js';
import { CatalogVersions, computerCompliance, fleetSummary } from '../site/reports.js';
import { SiteScanner } from '../site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../site/site.js';
import { now } from '../store/sql/store.js';
import { runSync } from '../sync/sync.js';
import { BUNDLED_CORPUS } from './paths.js';

export async function siteDemo(dir: string, fleetJsonl: string, clients: number, say: (text: string) => void): Promise<void> {
  const lines = readFileSync(fleetJsonl, 'utf8').split('\n').filter(Boolean).slice(0, clients);
  const names = lines.map((l) => (JSON.parse(l) as { computer: { name: string } }).computer.name);
  say(`\n${'─'.repeat(60)}\nThe site server: one SQLite file, ITMU's programs and collections, the upload server on loopback`);
  const site = await Site.open(dir);
  const store = site.store;
  try {
    if (!(await site.initialized())) {
      writeConfig(site.dir, { ...DEFAULT_CONFIG, sync: { ...DEFAULT_CONFIG.sync, source: BUNDLED_CORPUS } });
      await store.setSetting('initialized_at', now());
    }
    const created = (await ensureObjects(store, { testComputer: names[0]!, syncHost: hostname() })).created.length;
    // The demo tells the pilot story every time it runs: the main collection starts limited to the pilot again.
    const main = (await store.objectId('collection', 'main'))!;
    await store.setCollectionLimit(main, (await store.objectId('collection', 'pilot'))!);
    say(`$ patchscan init --data ${dir} --test-computer ${names[0]}\n${created ? `Created ${created} object(s)` : 'All objects were already present'}; test computer ${names[0]}`);
    const sync = await runSync(site, { source: BUNDLED_CORPUS });
    say(`$ patchscan sync --data ${dir}\nSync ${sync.outcome}: ${sync.message}`);
    const tokens: string[] = [];
    for (const n of names) tokens.push(await store.enroll(n));
    say(`$ patchscan client enroll … (${names.length} clients)`);
    const s = await serve(site, { listen: '127.0.0.1:0', scheduledSync: false });
    try {
      say(`$ patchscan serve --data ${dir}\nlistening on ${s.url}`);
      let accepted = 0;
      const since = now();
      for (let k = 0; k < lines.length; k++) if ((await upload(s.url, tokens[k]!, Buffer.from(lines[k]!))).status === 202) accepted++;
      await s.idle();
      const pilot = await store.scansSince(since);
      say(`$ patchscan upload --server ${s.url} --token … (${lines.length} inventories)\n${accepted} accepted; scanned so far: ${pilot} (only the pre-production collection is targeted)`);
      await store.setCollectionLimit(main, null);
      const queued = await new SiteScanner(site).rescanAll('collection unlimited');
      await s.idle();
      const f = await fleetSummary(store);
      say(`$ patchscan collection unlimit "Microsoft Updates Tool" --data ${dir}\nQueued ${queued}; now scanned ${f.scanned} of ${f.clients} clients, ${f.compliant} compliant; Installed ${f.states.Installed}, Required ${f.states.Required}, Unknown ${f.states.Unknown}`);
      const one = await computerCompliance(store, new CatalogVersions(store), names[0]!);
      if (one) {
        say(`$ patchscan compliance ${one.computer} --data ${dir}\n${one.computer} (${one.architecture ?? '?'}) scanned by "${one.program}": Installed ${one.counts.Installed}, Required ${one.counts.Required}, Unknown ${one.counts.Unknown}`);
        for (const u of one.updates.filter((x) => x.state === 'Required').slice(0, 5)) say(`  Required ${u.kb ? `KB${u.kb}` : '-'}  ${u.title}`);
      }
    } finally {
      await s.close();
    }
  } finally {
    await site.close();
  }
}
