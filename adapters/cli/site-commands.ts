/**
 * The site-server commands: init, verify, remove, sync, client, serve, upload, rescan, collection, compliance.
 * Every one works on a site directory (`--data DIR`, or $PATCHSCAN_DATA, default ./patchscan-data).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { PatchscanError } from '../../engine/errors.js';
import { readBounded } from '../inventory/read.js';
import { BUNDLED_CORPUS } from './paths.js';
import { readFileSync } from 'node:fs';
import { collectionByName, ensureObjects, type InitOptions, objectsToRemove, removeObjects, verifyObjects } from '../site/objects.js';
import { CatalogVersions, collectionSummary, complianceTrend, computerCompliance, fleetSummary, groupSummary, staleClients, updateCompliance } from '../site/reports.js';
import { toCsv } from '../report/csv.js';
import { SiteScanner } from '../site/scan-service.js';
import { configPath, DEFAULT_CONFIG, DEFAULT_DATA_DIR, Site, writeConfig } from '../site/site.js';
import { members, targetingProgram } from '../site/targeting.js';
import { serve } from '../server/server.js';
import { upload } from '../server/upload-client.js';
import { now, PRIORITY_EXPEDITED, PRIORITY_NORMAL, sha256Hex } from '../store/site-store.js';
import { runSync } from '../sync/sync.js';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

const DATA_HELP = 'site directory (default $PATCHSCAN_DATA or ./patchscan-data)';
const dataDir = (o: { data?: string }): string => o.data ?? process.env.PATCHSCAN_DATA ?? DEFAULT_DATA_DIR;

function withSite<T>(o: { data?: string }, fn: (site: Site) => T): T {
  const site = Site.open(dataDir(o));
  try {
    return fn(site);
  } finally {
    site.close();
  }
}

async function withSiteAsync<T>(o: { data?: string }, fn: (site: Site) => Promise<T>): Promise<T> {
  const site = Site.open(dataDir(o));
  try {
    return await fn(site);
  } finally {
    site.close();
  }
}

function requireInit(site: Site): void {
  if (!site.initialized) throw new PatchscanError('NOT_FOUND', `${site.dir} is not a patchscan site yet: run "patchscan init --data ${site.dir}" first`);
}

export function addSiteCommands(program: Command): void {
  program.command('init')
    .description("create a site: the database, the configuration, and ITMU's package, programs, collections and advertisements")
    .option('--data <dir>', DATA_HELP)
    .option('--test-computer <name>', 'the computer in the pre-production collection (default: the sync host)')
    .option('--sync-host <name>', 'the computer that runs the catalog sync (default: this host)')
    .option('--sync-source <url|folder>', 'where the catalog comes from: an http(s) URL or a folder an administrator fills')
    .option('--listen <host:port>', 'where `patchscan serve` listens', DEFAULT_CONFIG.listen)
    .option('--names <file.json>', 'other names than the seed\'s: {"package": …, "programs": {"scan-x64": …}, "collections": {"main": …, "pilot": …}}')
    .addHelpText('after', `
Creates, with the seed's names (ITMU for Configuration Manager 2007):
  package      "Microsoft Corporation Microsoft Updates Tool 2.0 ALL"
  programs     "Microsoft Updates Tool", "… (expedited)", "… x64", "… x64 (expedited)", "… IA64", "… IA64 (expedited)",
               "Microsoft Updates Tool Sync" (and "… ARM64", "… ARM64 (expedited)": the modern addition)
  collections  "Microsoft Updates Tool" (limited to the pre-production collection until you unlimit it),
               "Microsoft Updates Tool (pre-production)" (the test computer), "… x64", "… IA64", "… ARM64", "… Sync"
  advertisements tying each program to its collection
Prints an admin token once (for reports and the web console); keep it.`)
    .action((o: { data?: string; testComputer?: string; syncHost?: string; syncSource?: string; listen: string; names?: string }) => {
      const dir = dataDir(o);
      withSite(o, (site) => {
        const fresh = !site.initialized;
        if (fresh) writeConfig(site.dir, { ...DEFAULT_CONFIG, listen: o.listen, sync: { ...DEFAULT_CONFIG.sync, ...(o.syncSource ? { source: o.syncSource } : {}) } });
        // On an existing site only what was asked for changes (a rerun is the seed's "repair" run).
        const syncHost = o.syncHost ?? site.store.setting('sync_host') ?? hostname();
        const testComputer = o.testComputer ?? site.store.setting('test_computer') ?? syncHost;
        let names: InitOptions['names'];
        if (o.names) {
          try {
            names = JSON.parse(readFileSync(o.names, 'utf8')) as InitOptions['names'];
          } catch (e) {
            throw new PatchscanError('BAD_ARGUMENT', `--names ${o.names}: ${(e as Error).message}`);
          }
        }
        const r = ensureObjects(site.store, { testComputer, syncHost, ...(names ? { names } : {}) });
        let admin: string | undefined;
        if (!site.store.setting('admin_token_hash')) {
          admin = `psa_${randomBytes(32).toString('base64url')}`;
          site.store.setSetting('admin_token_hash', sha256Hex(admin));
        }
        if (!site.store.setting('initialized_at')) site.store.setSetting('initialized_at', now());
        print(`${fresh ? 'Created' : 'Checked'} site ${site.dir} (configuration ${configPath(site.dir)})`);
        print(r.created.length ? `Created ${r.created.length} object(s):\n${r.created.map((p) => `  ${p.kind} ${p.name}`).join('\n')}` : 'All objects were already present.');
        print(`Test computer (pre-production): ${site.store.setting('test_computer')}; sync host: ${site.store.setting('sync_host')}`);
        if (admin) print(`Admin token (shown once; reports and the web console need it):\n  ${admin}`);
        print(`\nNext: patchscan sync --data ${dir} --source <wsusscn2.cab URL or folder>, then patchscan serve --data ${dir}`);
      });
    });

  program.command('verify')
    .description("check that every ITMU object exists; --repair recreates what is missing (like running SMSITMU.MSI again)")
    .option('--data <dir>', DATA_HELP)
    .option('--repair', 'recreate missing objects')
    .action((o: { data?: string; repair?: boolean }) => {
      withSite(o, (site) => {
        requireInit(site);
        const problems = verifyObjects(site.store);
        if (problems.length === 0) {
          print('All objects are present: 1 package, 9 programs, 6 collections, 9 advertisements, test computer and sync host in place.');
          return;
        }
        for (const p of problems) print(`${o.repair ? 'Repairing' : 'Problem'}: ${p.kind} "${p.name}" is ${p.problem}`);
        if (o.repair) {
          ensureObjects(site.store);
          const left = verifyObjects(site.store);
          if (left.length) throw new PatchscanError('IO', `${left.length} object(s) could not be repaired`);
          print(`Repaired ${problems.length} object(s).`);
        } else {
          print(`\n${problems.length} problem(s). Run "patchscan verify --repair" to recreate what is missing.`);
          process.exitCode = 3;
        }
      });
    });

  program.command('remove')
    .description("remove ITMU's objects from the site (its collections and advertisements go too); keeps inventories and results")
    .option('--data <dir>', DATA_HELP)
    .option('--yes', 'really remove them')
    .action((o: { data?: string; yes?: boolean }) => {
      withSite(o, (site) => {
        requireInit(site);
        const what = objectsToRemove(site.store);
        print(`Removing the tool also removes its ${what.collections.length} collection(s) and ${what.advertisements.length} advertisement(s):`);
        for (const c of what.collections) print(`  collection    ${c}`);
        for (const a of what.advertisements) print(`  advertisement ${a}`);
        if (!o.yes) {
          print('\nNothing removed. Run again with --yes to remove them.');
          process.exitCode = 3;
          return;
        }
        removeObjects(site.store);
        print('Removed. "patchscan verify --repair" recreates them.');
      });
    });

  program.command('sync')
    .description('fetch the catalog once (URL or folder); a new one is verified, imported, compiled and swapped in, and every stored inventory is rescanned. "sync status" shows the history')
    .argument('[status]', '"status": the sync history (6709 started, 6710 done, 6711 failed) and the catalog in service')
    .option('--data <dir>', DATA_HELP)
    .option('--source <url|folder>', 'overrides sync.source of the configuration')
    .option('-n, --limit <n>', 'status: messages to show', '20')
    .option('--json', 'status: print JSON')
    .action(async (what: string | undefined, o: { data?: string; source?: string; limit: string; json?: boolean }) => {
      if (what !== undefined && what !== 'status') throw new PatchscanError('BAD_ARGUMENT', `unknown sync action "${what}": use "patchscan sync" or "patchscan sync status"`);
      if (what === 'status') {
        withSite(o, (site) => {
          const cat = site.store.currentCatalog();
          const msgs = site.store.syncMessages(Number(o.limit));
          if (o.json) {
            print(JSON.stringify({ catalog: cat ?? null, messages: msgs }, null, 2));
            return;
          }
          print(cat ? `Catalog in service: ${cat.sha256} (${cat.revisions} revisions, imported ${cat.imported_at}${cat.signer ? `, signed by ${cat.signer}${cat.signed_at ? ` on ${cat.signed_at}` : ''}` : ', unsigned'})` : 'No catalog in service yet.');
          print('');
          for (const m of msgs) print(`${m.at}  ${m.message_id}  ${m.severity.padEnd(13)}  ${m.text}`);
          if (msgs.length === 0) print('No sync has run yet.');
        });
        return;
      }
      await withSiteAsync(o, async (site) => {
        requireInit(site);
        const r = await runSync(site, { ...(o.source ? { source: o.source } : {}), onLog: (line) => process.stderr.write(`${line}\n`) });
        print(`Sync ${r.outcome}: ${r.message}`);
        if (r.outcome === 'failed') process.exitCode = r.error?.code === 'IO' ? 1 : 2;
        else if (r.outcome === 'busy') process.exitCode = 1; // another sync of this site is running; nothing changed
      });
    });

  const client = program.command('client').description('clients that upload inventories');
  client.command('enroll')
    .description('issue a token for a client (stored hashed; printed once). Enrolling again replaces the token')
    .argument('<name>', 'the computer name the client will upload as')
    .option('--data <dir>', DATA_HELP)
    .action((name: string, o: { data?: string }) => {
      withSite(o, (site) => {
        requireInit(site);
        const token = site.store.enroll(name);
        print(`Enrolled ${name}. Its token (shown once):\n  ${token}\nOn the client: patchscan upload --server URL --token ${token} inventory.json`);
      });
    });
  client.command('list')
    .description('clients, their architecture, last upload and last scan')
    .option('--data <dir>', DATA_HELP)
    .action((o: { data?: string }) => {
      withSite(o, (site) => {
        for (const c of site.store.clients()) print(`${c.name.padEnd(24)} ${(c.architecture ?? '-').padEnd(6)} upload ${c.last_upload_at ?? '-'}  scan ${c.last_scan_at ?? '-'}${c.token_hash ? '' : '  (not enrolled)'}`);
      });
    });

  program.command('serve')
    .description('run the site server: inventory uploads, the scan queue, the scheduled sync (loopback unless configured)')
    .option('--data <dir>', DATA_HELP)
    .option('--listen <host:port>', 'overrides listen of the configuration (port 0: any free port)')
    .action(async (o: { data?: string; listen?: string }) => {
      const site = Site.open(dataDir(o));
      requireInit(site);
      const s = await serve(site, { ...(o.listen ? { listen: o.listen } : {}), log: (l) => process.stderr.write(`${l}\n`) });
      print(`patchscan serve: listening on ${s.url} (site ${site.dir}); Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await s.close();
      site.close();
      print('patchscan serve: stopped');
    });

  program.command('upload')
    .description('send an inventory to the site server (the client side)')
    .argument('<file>', 'inventory file (JSON or msgpack)')
    .requiredOption('--server <url>', 'the site server, e.g. http://127.0.0.1:8530')
    .option('--token <token>', 'this client\'s token (default $PATCHSCAN_TOKEN)')
    .option('--expedited', 'scan right away, ahead of scheduled work (after a deployment)')
    .option('--no-gzip', 'send uncompressed')
    .action(async (file: string, o: { server: string; token?: string; expedited?: boolean; gzip: boolean }) => {
      const token = o.token ?? process.env.PATCHSCAN_TOKEN;
      if (!token) throw new PatchscanError('BAD_ARGUMENT', 'give --token TOKEN (or set PATCHSCAN_TOKEN): "patchscan client enroll NAME" on the server issues one');
      const r = await upload(o.server, token, readBounded(file), { expedited: o.expedited ?? false, gzip: o.gzip });
      if (r.status === 202) print(`Accepted (${String(r.body.queued)} scan queued${r.body.targeted ? ` by ${String(r.body.program)}` : `; ${String(r.body.note)}`})`);
      else {
        const err = r.body.error as { code?: string; message?: string } | undefined;
        process.stderr.write(`patchscan: upload refused: ${r.status} ${err?.code ?? ''}: ${err?.message ?? JSON.stringify(r.body)}\n`);
        process.exitCode = r.status >= 500 ? 1 : 2;
      }
    });

  program.command('rescan')
    .description('queue a rescan of a computer\'s latest inventory; --expedited scans it now, ahead of everything queued')
    .argument('<computer>', 'computer name')
    .option('--data <dir>', DATA_HELP)
    .option('--expedited', 'jump the queue and scan at once')
    .action((name: string, o: { data?: string; expedited?: boolean }) => {
      withSite(o, (site) => {
        requireInit(site);
        const c = site.store.client(name);
        if (!c || !site.store.latestInventory(c.id)) throw new PatchscanError('NOT_FOUND', `${name} has no stored inventory`);
        const requested = now();
        site.store.tx(() => site.store.enqueue(c.id, o.expedited ? PRIORITY_EXPEDITED : PRIORITY_NORMAL, o.expedited ? 'expedited rescan' : 'rescan'));
        const target = targetingProgram(site.store, c, o.expedited ?? false);
        if (!target) print(`Queued, but no advertised collection targets ${name} (${c.architecture ?? 'unknown architecture'}) yet: it will be skipped.`);
        if (!o.expedited) {
          print(`Queued a rescan of ${name}; the server's scan queue runs it.`);
          return;
        }
        // Expedited: the queue runs highest priority first, so this scan is next — done here and now, unless a running
        // server takes it first (it polls the same queue); either way we wait for it and report its result.
        const cat = site.store.currentCatalog();
        if (!cat) {
          print('No catalog in service yet: run "patchscan sync" first. The scan stays queued.');
          return;
        }
        const scanner = new SiteScanner(site);
        const queued = site.store.stmt('SELECT 1 FROM scan_queue WHERE client_id = ? AND priority = ?');
        const deadline = Date.now() + 30_000;
        while (queued.get(c.id, PRIORITY_EXPEDITED) !== undefined && Date.now() < deadline) {
          const r = scanner.runQueue(1);
          if (r.scanned + r.skipped === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // another process holds it
        }
        const scan = site.store.stmt('SELECT scanned_at FROM scans WHERE client_id = ?').get(c.id) as { scanned_at: string } | undefined;
        if (scan && scan.scanned_at >= requested) {
          const s = computerCompliance(site.store, new CatalogVersions(site.store), name)!;
          print(`Scanned ${name} now (${s.program}): Installed ${s.counts.Installed}, Required ${s.counts.Required}, Unknown ${s.counts.Unknown}`);
        } else if (queued.get(c.id, PRIORITY_EXPEDITED) !== undefined) print(`${name} is still queued after 30 s; the server will scan it.`);
        else print(`${name} was not scanned: no advertised collection targets it.`);
      });
    });

  const collection = program.command('collection').description("ITMU's collections: membership, limiting, the pilot");
  collection.command('list')
    .description('every collection with its member count and limiting collection')
    .option('--data <dir>', DATA_HELP)
    .action((o: { data?: string }) => {
      withSite(o, (site) => {
        const rows = site.store.stmt('SELECT c.id, c.name, c.architecture, l.name AS limit_name FROM collections c LEFT JOIN collections l ON l.id = c.limit_to ORDER BY c.id').all() as { id: number; name: string; architecture: string | null; limit_name: string | null }[];
        for (const r of rows) print(`${r.name.padEnd(42)} ${String(members(site.store, r.id).length).padStart(6)} member(s)${r.limit_name ? `  limited to "${r.limit_name}"` : ''}`);
      });
    });
  collection.command('show')
    .description('a collection: its query, its limiting collection, its members')
    .argument('<name>')
    .option('--data <dir>', DATA_HELP)
    .action((name: string, o: { data?: string }) => {
      withSite(o, (site) => {
        const c = collectionByName(site.store, name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}" (patchscan collection list)`);
        const limit = c.limit_to ? collectionByName(site.store, (site.store.stmt('SELECT name FROM collections WHERE id = ?').get(c.limit_to) as { name: string }).name) : undefined;
        print(`${c.name}\n  query: ${c.architecture === '*' ? 'every client' : c.architecture ? `clients with architecture ${c.architecture}` : 'direct members only'}${limit ? `\n  limited to: ${limit.name}` : ''}`);
        for (const m of members(site.store, c.id)) print(`  member ${m}`);
      });
    });
  collection.command('unlimit')
    .description('remove a collection\'s limiting collection (the seed\'s last step: every eligible client is then scanned)')
    .argument('<name>')
    .option('--data <dir>', DATA_HELP)
    .action((name: string, o: { data?: string }) => {
      withSite(o, (site) => {
        const c = collectionByName(site.store, name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}" (patchscan collection list)`);
        site.store.stmt('UPDATE collections SET limit_to = NULL WHERE id = ?').run(c.id);
        // Clients that uploaded while they were not targeted are queued now: nobody has to send anything again.
        const n = new SiteScanner(site).rescanAll(`collection ${name} unlimited`);
        print(`"${name}" is no longer limited; it has ${members(site.store, c.id).length} member(s). Queued ${n} stored inventory(ies) for a scan.`);
      });
    });
  collection.command('limit')
    .description('limit a collection to the members of another (as init does with the pre-production collection)')
    .argument('<name>')
    .requiredOption('--to <collection>', 'the limiting collection')
    .option('--data <dir>', DATA_HELP)
    .action((name: string, o: { data?: string; to: string }) => {
      withSite(o, (site) => {
        const c = collectionByName(site.store, name);
        const to = collectionByName(site.store, o.to);
        if (!c || !to) throw new PatchscanError('NOT_FOUND', `no collection named "${!c ? name : o.to}"`);
        site.store.stmt('UPDATE collections SET limit_to = ? WHERE id = ?').run(to.id, c.id);
        print(`"${name}" is limited to "${o.to}".`);
      });
    });
  collection.command('add')
    .description('add a computer to a collection directly (e.g. a second test computer to the pre-production collection)')
    .argument('<name>')
    .argument('<computer>')
    .option('--data <dir>', DATA_HELP)
    .action((name: string, computer: string, o: { data?: string }) => {
      withSite(o, (site) => {
        const c = collectionByName(site.store, name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}"`);
        site.store.stmt('INSERT OR IGNORE INTO collection_members (collection_id, computer) VALUES (?, ?)').run(c.id, computer);
        print(`${computer} is a member of "${name}".`);
      });
    });

  const report = program.command('report')
    .description('reports over the site database (table; --json; --csv): computer, update, collections, classifications, products, stale, sync, trend')
    .addHelpText('after', `
Examples:
  $ patchscan report computer PC-0042 --data site            # software updates compliance for a specific computer
  $ patchscan report update KB5034441 --state Required --csv  # who needs it (also: Installed, Unknown with the reason)
  $ patchscan report collections                              # per collection: members, scanned, compliant
  $ patchscan report classifications | products               # update states across the fleet
  $ patchscan report stale --days 14                          # clients that have not reported for 14 days
  $ patchscan report sync                                     # the sync history
The same data over HTTP (admin token): /v1/computers/<name>/compliance, /v1/updates/<KB>, /v1/reports/{collections,
classifications,products,stale,trend}, /v1/sync — add ?format=csv for CSV.`);
  const out = (o: { json?: boolean; csv?: boolean }, data: unknown, rows: readonly object[], table: () => string): void => {
    if (o.json) print(JSON.stringify(data, null, 2));
    else if (o.csv) process.stdout.write(toCsv(rows));
    else print(table());
  };
  const fmt = (rows: readonly Record<string, unknown>[], cols: readonly string[]): string => {
    const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
    const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
    const line = (xs: readonly string[]): string => xs.map((x, i) => (i === xs.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
    return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
  };
  const reportOpts = (c: Command): Command => c.option('--data <dir>', DATA_HELP).option('--json', 'print JSON').option('--csv', 'print CSV');
  reportOpts(report.command('computer').argument('<name>').description('software updates compliance for a specific computer'))
    .action((name: string, o: { data?: string; json?: boolean; csv?: boolean }) => withSite(o, (site) => {
      const c = computerCompliance(site.store, new CatalogVersions(site.store), name);
      if (!c) throw new PatchscanError('NOT_FOUND', site.store.client(name) ? `${name} has not been scanned yet` : `no computer named ${name}`);
      const rows = c.updates.map((u) => ({ computer: c.computer, kb: u.kb, title: u.title, classification: u.classification, severity: u.severity, state: u.state, superseded: u.superseded, reason: u.reason, scannedAt: c.scannedAt, catalog: c.catalog.sha256 }));
      out(o, c, rows, () => `${c.computer} (${c.architecture ?? '?'}) scanned ${c.scannedAt} by "${c.program}", catalog ${c.catalog.sha256.slice(0, 16)}: Installed ${c.counts.Installed}, Required ${c.counts.Required}, Unknown ${c.counts.Unknown}\n\n${fmt(rows.map((r) => ({ ...r, kb: r.kb ? `KB${r.kb}` : '-', superseded: r.superseded ? 'yes' : '', title: r.title.length > 60 ? `${r.title.slice(0, 59)}…` : r.title })), ['state', 'superseded', 'kb', 'classification', 'severity', 'title'])}`);
    }));
  reportOpts(report.command('update').argument('<KB|UpdateId>').description('one update across the fleet: who needs it, who has it, Unknown because of which fact'))
    .option('--state <state>', 'only machines in this state (Required, Installed, Unknown)')
    .option('--limit <n>', 'machines to list', '100')
    .action((id: string, o: { data?: string; json?: boolean; csv?: boolean; state?: string; limit: string }) => withSite(o, (site) => {
      const u = updateCompliance(site.store, new CatalogVersions(site.store), id, { ...(o.state ? { state: o.state } : {}), limit: Number(o.limit) });
      if (!u) throw new PatchscanError('NOT_FOUND', `no update ${id} in the catalog in service`);
      out(o, u, u.machines.items, () => [
        `${u.update.kb ? `KB${u.update.kb} ` : ''}${u.update.title} (${u.update.classification}${u.update.severity ? `, ${u.update.severity}` : ''})`,
        `Required ${u.counts.Required}, Installed ${u.counts.Installed}, Unknown ${u.counts.Unknown}; superseded on ${u.counts.superseded}`,
        ...(u.unknownBecause.length ? ['', 'Unknown because:', ...u.unknownBecause.map((r) => `  ${String(r.machines).padStart(6)}  ${r.reason}`)] : []),
        '', fmt(u.machines.items.map((m) => ({ ...m, superseded: m.superseded ? 'yes' : '' })), ['computer', 'state', 'superseded', 'scannedAt', 'reason']),
        u.machines.total > u.machines.items.length ? `… ${u.machines.total - u.machines.items.length} more (--limit)` : '',
      ].join('\n').trimEnd());
    }));
  reportOpts(report.command('collections').description('per collection: members, scanned, compliant, Required and Unknown updates'))
    .action((o: { data?: string; json?: boolean; csv?: boolean }) => withSite(o, (site) => {
      const rows = collectionSummary(site.store);
      out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['name', 'limitedTo', 'members', 'scanned', 'compliant', 'required', 'unknown']));
    }));
  for (const kind of ['classification', 'product'] as const) {
    reportOpts(report.command(`${kind === 'classification' ? 'classifications' : 'products'}`).description(`update states across the fleet per ${kind} (client × update)`))
      .action((o: { data?: string; json?: boolean; csv?: boolean }) => withSite(o, (site) => {
        const rows = groupSummary(site.store, kind);
        out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['name', 'installed', 'required', 'unknown']));
      }));
  }
  reportOpts(report.command('stale').description('clients that have not reported for N days'))
    .option('--days <n>', 'days', '7')
    .action((o: { data?: string; json?: boolean; csv?: boolean; days: string }) => withSite(o, (site) => {
      const p = staleClients(site.store, Number(o.days), 10_000);
      out(o, p, p.items, () => `${p.total} client(s) have not reported for ${o.days} day(s)\n\n${fmt(p.items as unknown as Record<string, unknown>[], ['name', 'lastUpload', 'lastScan'])}`);
    }));
  reportOpts(report.command('sync').description('the sync history and the catalog in service'))
    .action((o: { data?: string; json?: boolean; csv?: boolean }) => withSite(o, (site) => {
      const msgs = site.store.syncMessages(100);
      out(o, { catalog: site.store.currentCatalog() ?? null, messages: msgs }, msgs, () => fmt(msgs as unknown as Record<string, unknown>[], ['at', 'message_id', 'severity', 'text']));
    }));
  reportOpts(report.command('trend').description('fleet compliance per day (what the console charts)'))
    .action((o: { data?: string; json?: boolean; csv?: boolean }) => withSite(o, (site) => {
      const rows = complianceTrend(site.store);
      out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['day', 'clients', 'scanned', 'compliant', 'installed', 'required', 'unknown']));
    }));

  program.command('compliance')
    .description('software updates compliance for a specific computer (its latest scan), or the fleet summary without a name')
    .argument('[computer]', 'computer name')
    .option('--data <dir>', DATA_HELP)
    .option('--json', 'print JSON')
    .action((name: string | undefined, o: { data?: string; json?: boolean }) => {
      withSite(o, (site) => {
        if (!name) {
          const s = fleetSummary(site.store);
          print(o.json ? JSON.stringify(s, null, 2) : `Clients ${s.clients}, scanned ${s.scanned}, compliant ${s.compliant}; Installed ${s.states.Installed}, Required ${s.states.Required}, Unknown ${s.states.Unknown}; queue ${s.queue.expedited} expedited, ${s.queue.normal} normal`);
          return;
        }
        const c = computerCompliance(site.store, new CatalogVersions(site.store), name);
        if (!c) throw new PatchscanError('NOT_FOUND', site.store.client(name) ? `${name} has not been scanned yet` : `no computer named ${name}`);
        if (o.json) {
          print(JSON.stringify(c, null, 2));
          return;
        }
        print(`${c.computer} (${c.architecture ?? '?'}) scanned ${c.scannedAt} by "${c.program}" against catalog ${c.catalog.sha256.slice(0, 16)}`);
        print(`Installed ${c.counts.Installed}, Required ${c.counts.Required}, Unknown ${c.counts.Unknown}\n`);
        for (const u of c.updates) print(`${u.state.padEnd(13)} ${u.superseded ? 'sup ' : '    '}${(u.kb ? `KB${u.kb}` : '-').padEnd(10)} ${u.title}`);
      });
    });
}

/**
 * The demo's second half: a site in `dir` with the SQLite store — init, sync from the bundled corpus, enroll
 * `clients` machines of the fleet, serve on a loopback port, upload their inventories over HTTP (only the pilot
 * computer is scanned), unlimit the main collection, and show the fleet and one computer's compliance.
 */
export async function siteDemo(dir: string, fleetJsonl: string, clients: number, say: (text: string) => void): Promise<void> {
  const lines = readFileSync(fleetJsonl, 'utf8').split('\n').filter(Boolean).slice(0, clients);
  const names = lines.map((l) => (JSON.parse(l) as { computer: { name: string } }).computer.name);
  say(`\n${'─'.repeat(60)}\nThe site server: one SQLite file, ITMU's programs and collections, the upload server on loopback`);
  const site = Site.open(dir);
  try {
    if (!site.initialized) {
      writeConfig(site.dir, { ...DEFAULT_CONFIG, sync: { ...DEFAULT_CONFIG.sync, source: BUNDLED_CORPUS } });
      site.store.setSetting('initialized_at', now());
    }
    const created = ensureObjects(site.store, { testComputer: names[0]!, syncHost: hostname() }).created.length;
    // The demo tells the pilot story every time it runs: the main collection starts limited to the pilot again.
    site.store.stmt("UPDATE collections SET limit_to = (SELECT id FROM collections WHERE role = 'pilot') WHERE role = 'main'").run();
    say(`$ patchscan init --data ${dir} --test-computer ${names[0]}\n${created ? `Created ${created} object(s)` : 'All objects were already present'}; test computer ${names[0]}`);
    const sync = await runSync(site, { source: BUNDLED_CORPUS });
    say(`$ patchscan sync --data ${dir}\nSync ${sync.outcome}: ${sync.message}`);
    const tokens = names.map((n) => site.store.enroll(n));
    say(`$ patchscan client enroll … (${names.length} clients)`);
    const s = await serve(site, { listen: '127.0.0.1:0', scheduledSync: false });
    try {
      say(`$ patchscan serve --data ${dir}\nlistening on ${s.url}`);
      let accepted = 0;
      const since = now();
      for (let k = 0; k < lines.length; k++) if ((await upload(s.url, tokens[k]!, Buffer.from(lines[k]!))).status === 202) accepted++;
      await s.idle();
      const pilot = (site.store.stmt('SELECT count(*) AS n FROM scans WHERE scanned_at >= ?').get(since) as { n: number }).n;
      say(`$ patchscan upload --server ${s.url} --token … (${lines.length} inventories)\n${accepted} accepted; scanned so far: ${pilot} (only the pre-production collection is targeted)`);
      site.store.stmt('UPDATE collections SET limit_to = NULL WHERE role = ?').run('main');
      const queued = new SiteScanner(site).rescanAll('collection unlimited');
      await s.idle();
      const f = fleetSummary(site.store);
      say(`$ patchscan collection unlimit "Microsoft Updates Tool" --data ${dir}\nQueued ${queued}; now scanned ${f.scanned} of ${f.clients} clients, ${f.compliant} compliant; Installed ${f.states.Installed}, Required ${f.states.Required}, Unknown ${f.states.Unknown}`);
      const one = computerCompliance(site.store, new CatalogVersions(site.store), names[0]!);
      if (one) {
        say(`$ patchscan compliance ${one.computer} --data ${dir}\n${one.computer} (${one.architecture ?? '?'}) scanned by "${one.program}": Installed ${one.counts.Installed}, Required ${one.counts.Required}, Unknown ${one.counts.Unknown}`);
        for (const u of one.updates.filter((x) => x.state === 'Required').slice(0, 5)) say(`  Required ${u.kb ? `KB${u.kb}` : '-'}  ${u.title}`);
      }
    } finally {
      await s.close();
    }
  } finally {
    site.close();
  }
}
