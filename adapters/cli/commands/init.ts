/**
 * `patchscan init | verify | remove`: ITMU's site objects (the package, programs, collections, advertisements).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { ensureObjects, type InitOptions, objectsToRemove, removeObjects, verifyObjects } from '../../site/objects.js';
import { configPath, DEFAULT_CONFIG, writeConfig } from '../../site/site.js';
import { now, sha256Hex } from '../../store/sql/store.js';
import { listenAddress } from './args.js';
import { dataDir, print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';

export function addInitCommands(program: Command): void {
  siteOptions(program.command('init'))
    .description("create a site: the database, the configuration, and ITMU's package, programs, collections and advertisements")
    .option('--test-computer <name>', 'the computer in the pre-production collection (default: the sync host)')
    .option('--sync-host <name>', 'the computer that runs the catalog sync (default: this host)')
    .option('--sync-source <url|folder>', 'where the catalog comes from: an http(s) URL or a folder an administrator fills')
    .option('--listen <host:port>', 'where `patchscan serve` listens', listenAddress('--listen'), DEFAULT_CONFIG.listen)
    .option(
      '--names <file.json>',
      'other names than the seed\'s: {"package": …, "programs": {"scan-x64": …}, "collections": {"main": …, "pilot": …}}',
    )
    .addHelpText(
      'after',
      `
Creates, with the seed's names (ITMU for Configuration Manager 2007):
  package      "Microsoft Corporation Microsoft Updates Tool 2.0 ALL"
  programs     "Microsoft Updates Tool", "… (expedited)", "… x64", "… x64 (expedited)", "… IA64", "… IA64 (expedited)",
               "Microsoft Updates Tool Sync" (and "… ARM64", "… ARM64 (expedited)": the modern addition)
  collections  "Microsoft Updates Tool" (limited to the pre-production collection until you unlimit it),
               "Microsoft Updates Tool (pre-production)" (the test computer), "… x64", "… IA64", "… ARM64", "… Sync"
  advertisements tying each program to its collection
With --database postgres://…, the site's data lives in PostgreSQL (shared by every serve and worker process);
the URL is written to patchscan.json. Prints an admin token once (for reports and the web console); keep it.`,
    )
    .action((o: SiteOptions & { testComputer?: string; syncHost?: string; syncSource?: string; listen: string; names?: string }) => {
      // Read before the site is opened: a names file that cannot be read must leave no half-made site behind.
      let names: InitOptions['names'];
      if (o.names) {
        try {
          names = JSON.parse(readFileSync(o.names, 'utf8')) as InitOptions['names'];
        } catch (e) {
          throw new PatchscanError('BAD_ARGUMENT', `--names ${o.names}: ${(e as Error).message}. Nothing was created.`);
        }
      }
      return withSite(
        o,
        async (site) => {
          const dir = dataDir(o);
          const fresh = !(await site.initialized());
          if (fresh) {
            writeConfig(site.dir, {
              ...DEFAULT_CONFIG,
              ...(o.database ? { database: o.database } : {}),
              listen: o.listen,
              sync: { ...DEFAULT_CONFIG.sync, ...(o.syncSource ? { source: o.syncSource } : {}) },
            });
          }
          const store = site.store;
          // On an existing site only what was asked for changes (a rerun is the seed's "repair" run).
          const syncHost = o.syncHost ?? (await store.setting('sync_host')) ?? hostname();
          const testComputer = o.testComputer ?? (await store.setting('test_computer')) ?? syncHost;
          const r = await ensureObjects(store, { testComputer, syncHost, ...(names ? { names } : {}) });
          let admin: string | undefined;
          if (!(await store.setting('admin_token_hash'))) {
            admin = `psa_${randomBytes(32).toString('base64url')}`;
            await store.setSetting('admin_token_hash', sha256Hex(admin));
          }
          if (!(await store.setting('initialized_at'))) await store.setSetting('initialized_at', now());
          print(`${fresh ? 'Created' : 'Checked'} site ${site.dir} (configuration ${configPath(site.dir)}; database ${store.location})`);
          print(
            r.created.length
              ? `Created ${r.created.length} object(s):\n${r.created.map((p) => `  ${p.kind} ${p.name}`).join('\n')}`
              : 'All objects were already present.',
          );
          print(`Test computer (pre-production): ${await store.setting('test_computer')}; sync host: ${await store.setting('sync_host')}`);
          if (admin) print(`Admin token (shown once; reports and the web console need it):\n  ${admin}`);
          const inService = await store.currentCatalog();
          if (inService)
            // A directory joining a site that already runs (the same --database): its catalog is in service already.
            print(
              `\nThis site has a catalog in service (imported ${inService.imported_at}). Next: patchscan serve --data ${dir}` +
                ` (uploads, reports, console) or patchscan worker --data ${dir} (scans); patchscan sync --data ${dir} fetches a newer one.`,
            );
          else print(`\nNext: patchscan sync --data ${dir} --source <wsusscn2.cab URL or folder>, then patchscan serve --data ${dir}`);
        },
        { create: true },
      );
    });

  siteOptions(program.command('verify'))
    .description('check that every ITMU object exists; --repair recreates what is missing (like running SMSITMU.MSI again)')
    .option('--repair', 'recreate missing objects')
    .action((o: SiteOptions & { repair?: boolean }) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const problems = await verifyObjects(site.store);
        if (problems.length === 0) {
          print('All objects are present: 1 package, 9 programs, 6 collections, 9 advertisements, test computer and sync host in place.');
          return;
        }
        for (const p of problems) print(`${o.repair ? 'Repairing' : 'Problem'}: ${p.kind} "${p.name}" is ${p.problem}`);
        if (o.repair) {
          await ensureObjects(site.store);
          const left = await verifyObjects(site.store);
          if (left.length) throw new PatchscanError('IO', `${left.length} object(s) could not be repaired`);
          print(`Repaired ${problems.length} object(s).`);
        } else {
          print(`\n${problems.length} problem(s). Run "patchscan verify --repair" to recreate what is missing.`);
          process.exitCode = 3;
        }
      }),
    );

  siteOptions(program.command('remove'))
    .description("remove ITMU's objects from the site (its collections and advertisements go too); keeps inventories and results")
    .option('--yes', 'really remove them')
    .action((o: SiteOptions & { yes?: boolean }) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const what = await objectsToRemove(site.store);
        print(
          `Removing the tool also removes its ${what.collections.length} collection(s) and ${what.advertisements.length} advertisement(s):`,
        );
        for (const c of what.collections) print(`  collection    ${c}`);
        for (const a of what.advertisements) print(`  advertisement ${a}`);
        if (!o.yes) {
          print('\nNothing removed. Run again with --yes to remove them.');
          process.exitCode = 3;
          return;
        }
        await removeObjects(site.store);
        print('Removed. "patchscan verify --repair" recreates them.');
      }),
    );
}
