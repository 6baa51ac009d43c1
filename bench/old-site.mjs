// Sets up a site with an EARLIER build of patchscan (the synchronous SQLite store from before the store port, main at
// 3c7ecc4), for bench/rescan-before-after.bench.ts: the same steps that bench takes with the current code, through
// the old build's own modules, so that its `serve` finds a database of its own schema.
//
//   node bench/old-site.mjs OLD_DIST setup DIR CAB INVENTORIES.jsonl TOKENS_OUT
//       site at DIR (loopback, any port, no upload rate limit), objects, main collection unlimited, CAB synced, every
//       inventory's client enrolled with its inventory stored; one token per line written to TOKENS_OUT
//   node bench/old-site.mjs OLD_DIST rescan DIR      queue a scan of every client with an inventory; prints the count
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';

const [dist, command, dir, cab, inventories, tokensOut] = process.argv.slice(2);
const mod = (path) => import(join(dist, path));
const { DEFAULT_CONFIG, Site, writeConfig } = await mod('adapters/site/site.js');
const { ScanService } = await mod('adapters/site/scan-service.js');

if (command === 'setup') {
  const { ensureObjects, variantOf } = await mod('adapters/site/objects.js');
  const { now } = await mod('adapters/store/site-store.js');
  const { runSync } = await mod('adapters/sync/sync.js');
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1_000_000 } });
  const site = Site.open(dir);
  ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
  site.store.setSetting('initialized_at', now());
  site.store.db.prepare("UPDATE collections SET limit_to = NULL WHERE role = 'main'").run();
  const sync = await runSync(site, { source: cab });
  if (sync.outcome !== 'updated') throw new Error(`old build: sync ${sync.outcome}`);
  const packr = new Packr({ useRecords: false });
  const tokens = [];
  for (const line of readFileSync(inventories, 'utf8').split('\n')) {
    if (!line) continue;
    const inv = JSON.parse(line);
    tokens.push(site.store.enroll(inv.computer.name));
    const c = site.store.client(inv.computer.name);
    site.store.addInventory(c.id, packr.pack(inv), variantOf(inv.processor?.architecture) ?? 'other');
  }
  site.close();
  writeFileSync(tokensOut, `${tokens.join('\n')}\n`);
} else if (command === 'rescan') {
  const site = Site.open(dir);
  console.log(new ScanService(site).rescanAll('bench: full rescan'));
  site.close();
} else {
  throw new Error(`old-site.mjs: unknown command ${command}`);
}
