/**
 * The demo's second half: a site in `dir` with the SQLite store — init, sync from the bundled corpus, enroll
 * `clients` machines of the fleet, serve on a loopback port, upload their inventories over HTTP (only the pilot
 * computer is scanned), unlimit the main collection, show the fleet and one computer's compliance, make a software
 * update group with a deadline, and end with how to open the web console: the command that serves it, its URL and a
 * fresh admin token. Everything it starts (the server on a loopback port, its scan thread) is stopped before it
 * returns: nothing is left running and no port stays open.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { serve } from '../server/server.js';
import { upload } from '../server/upload-client.js';
import { ensureObjects } from '../site/objects.js';
import { countedAs } from '../../engine/scanner/counting.js';
import { supersedenceCode } from '../../engine/scanner/supersedence.js';
import { CatalogVersions, computerCompliance, countsText, fleetSummary } from '../site/reports.js';
import { ScanService } from '../site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../site/site.js';
import { createUpdateGroup, deleteUpdateGroup, listUpdateGroups, percentText } from '../site/update-groups.js';
import { now, sha256Hex } from '../store/sql/store.js';
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
    // A fresh admin token every run (only its hash is kept, so an earlier run's token cannot be shown again): the
    // console's sign-in at the end uses it; the previous one stops working.
    const admin = `psa_${randomBytes(32).toString('base64url')}`;
    await store.setSetting('admin_token_hash', sha256Hex(admin));
    say(
      `$ patchscan init --data ${dir} --test-computer ${names[0]}\n` +
        `${created ? `Created ${created} object(s)` : 'All objects were already present'}; ` +
        `test computer ${names[0]}; a new admin token (shown at the end)`,
    );
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
      say(
        `$ patchscan upload --server ${s.url} --token … (${lines.length} inventories)\n` +
          `${accepted} accepted; scanned so far: ${pilot} (only the pre-production ` +
          `collection is targeted)`,
      );
      await store.setCollectionLimit(main, null);
      const queued = await new ScanService(site).rescanAll('collection unlimited');
      await s.idle();
      const f = await fleetSummary(store);
      say(
        `$ patchscan collection unlimit "Microsoft Updates Tool" --data ${dir}\nQueued ` +
          `${queued}; now scanned ${f.scanned} of ${f.clients} clients, ${f.compliant} ` +
          `compliant; ${countsText(f.states)}`,
      );
      const one = await computerCompliance(store, new CatalogVersions(store), names[0]!);
      if (one) {
        say(
          `$ patchscan compliance ${one.computer} --data ${dir}\n${one.computer} (` +
            `${one.architecture ?? '?'}) scanned by "${one.program}": ` +
            `${countsText(one.counts)}`,
        );
        // Missing by the counting rule: Required and not superseded.
        const missing = one.updates.filter((x) => countedAs(x.state, supersedenceCode(x)) === 'required');
        for (const u of missing.slice(0, 5)) say(`  Required ${u.kb ? `KB${u.kb}` : '-'}  ${u.title}`);
      }
      await groupDemo(site, dir, say);
    } finally {
      await s.close();
    }
    say(consoleHowTo(site, dir, admin));
  } finally {
    await site.close();
  }
}

const DEMO_GROUP = 'Security updates (demo)';

/** A software update group with a deadline that has passed: its compliance and how many machines are overdue. */
async function groupDemo(site: Site, dir: string, say: (text: string) => void): Promise<void> {
  if (await site.store.updateGroup(DEMO_GROUP)) await deleteUpdateGroup(site.store, DEMO_GROUP); // made afresh each run
  const today = now().slice(0, 10);
  const catalogs = new CatalogVersions(site.store, site.catalogsDir);
  const g = await createUpdateGroup(site.store, catalogs, DEMO_GROUP, { classifications: ['Security Updates'] }, `${today}T00:00:00.000Z`);
  const [summary] = (await listUpdateGroups(site.store, catalogs)).filter((x) => x.name === g.name);
  const f = summary!.fleet;
  say(
    `$ patchscan group create "${DEMO_GROUP}" --classification "Security Updates" --deadline ${today} --data ${dir}\n` +
      `Created "${g.name}" with ${g.updates} update(s)`,
  );
  say(
    `$ patchscan group list --data ${dir}\n"${g.name}": ${f.members} computer(s), ${f.compliant} compliant (${percentText(f)}), ` +
      `${f.nonCompliant} non-compliant, ${f.unknown} unknown; ${f.overdue} overdue (still missing an update after the deadline)`,
  );
}

/** How to open the web console once the demo is over: the command, the URL it will listen on, the token. */
function consoleHowTo(site: Site, dir: string, admin: string): string {
  const listen = site.config.listen;
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const url = `${site.config.tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${listen.slice(at + 1)}/`;
  return [
    `\n${'─'.repeat(60)}\nThe web console. The demo's server has stopped (nothing is left running); start one and sign in:`,
    `  $ patchscan serve --data ${dir}`,
    `  then open ${url} and sign in with the admin token:`,
    `  ${admin}`,
    '(A new admin token is issued each time the demo runs; the previous one no longer works.)',
  ].join('\n');
}
