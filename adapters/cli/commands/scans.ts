/**
 * `patchscan rescan` and `patchscan queue status`: the scan queue from the command line.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { catalogServerUrl, HttpCatalogSource } from '../../site/catalog-download.js';
import { storeCatalogSource, type CatalogSource } from '../../site/catalog-files.js';
import { CatalogVersions, computerCompliance, countsText } from '../../site/reports.js';
import { targetingProgram } from '../../site/targeting.js';
import { now } from '../../store/sql/store.js';
import { nonNegativeInt, positiveInt } from './args.js';
import { print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';
import type { Site } from '../../site/site.js';

export function addScanCommands(program: Command): void {
  siteOptions(program.command('rescan'))
    .description("queue a rescan of a computer's latest inventory; --expedited scans it now, ahead of everything queued")
    .argument('<computer>', 'computer name')
    .option('--expedited', 'jump the queue and scan at once')
    .action((name: string, o: SiteOptions & { expedited?: boolean }) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const store = site.store;
        const c = await store.client(name);
        if (!c || !(await store.latestInventory(c.id))) throw new PatchscanError('NOT_FOUND', `${name} has no stored inventory`);
        const requested = now();
        await store.enqueueScan(c.id, o.expedited ? 'expedited' : 'normal', o.expedited ? 'expedited rescan' : 'rescan');
        const target = await targetingProgram(store, c, o.expedited ?? false);
        if (!target)
          print(
            `Queued, but no advertised collection targets ${name} (${c.architecture ?? 'unknown architecture'}) yet: it will be skipped.`,
          );
        if (!o.expedited) {
          print(`Queued a rescan of ${name}; the site's scan workers run it.`);
          return;
        }
        // Expedited: the queue hands out expedited jobs first, so this scan is next — done here and now, unless a
        // running server or worker takes it first; either way we wait for it and report its result.
        if (!(await store.currentCatalog())) {
          print('No catalog in service yet: run "patchscan sync" first. The scan stays queued.');
          return;
        }
        const { ScanService } = await import('../../site/scan-service.js');
        const scanner = new ScanService(site);
        const scannedSince = async (): Promise<boolean> => ((await store.lastScan(c.id))?.scanned_at ?? '') >= requested;
        const deadline = Date.now() + 30_000;
        while (!(await scannedSince()) && Date.now() < deadline) {
          const r = await scanner.runQueue(1);
          if (r.scanned + r.skipped > 0) continue;
          const q = await store.queueStatus();
          if (q.queued.expedited === 0 && q.active === 0) break; // nothing left that could scan it
          await sleep(50); // another process holds it
        }
        if (await scannedSince()) {
          const s = (await computerCompliance(store, new CatalogVersions(store), name))!;
          print(`Scanned ${name} now (${s.program}): ${countsText(s.counts)}`);
        } else if (Date.now() >= deadline) print(`${name} is still queued after 30 s; the site's scan workers will scan it.`);
        else print(`${name} was not scanned: no advertised collection targets it.`);
      }),
    );

  const queue = program.command('queue').description('the scan queue: what waits, what runs, what failed');
  siteOptions(queue.command('status'))
    .description('jobs waiting (expedited, normal), running, and failed after their retries (with the error)')
    .option('-n, --limit <n>', 'failed jobs to list', nonNegativeInt('--limit', 'jobs'), 20)
    .option('--json', 'print JSON')
    .action((o: SiteOptions & { limit: number; json?: boolean }) =>
      withSite(o, async (site) => {
        const status = await site.store.queueStatus();
        const failed = await site.store.failedScans(o.limit);
        const names = new Map<number, string>();
        for (const f of failed)
          if (!names.has(f.clientId)) names.set(f.clientId, (await site.store.clientById(f.clientId))?.name ?? `client ${f.clientId}`);
        if (o.json) {
          print(JSON.stringify({ ...status, failedJobs: failed.map((f) => ({ ...f, computer: names.get(f.clientId) })) }, null, 2));
          return;
        }
        print(
          `Queued: ${status.queued.expedited} expedited, ${status.queued.normal} normal; ` +
            `running: ${status.active}; failed: ${status.failed}`,
        );
        for (const f of failed) print(`  failed ${f.failedAt}  ${names.get(f.clientId)}  (${f.priority}, ${f.reason}): ${f.error}`);
      }),
    );
}

/**
 * `patchscan worker`: a process that only scans. It takes jobs in batches from the site's queue (the table queue
 * with SQLite, pg-boss with PostgreSQL), scans them and stores their results; run any number of them, on any
 * number of machines with PostgreSQL. SIGINT/SIGTERM let the batch in hand finish (its jobs end with their
 * results), then it exits; a killed worker's jobs come back when a live worker sees it is gone (PostgreSQL:
 * scan-workers.ts; SQLite: a gone process of this host), at the latest when their lease runs out.
 */
export function addWorkerCommand(program: Command): void {
  siteOptions(program.command('worker'))
    .description('scan queued inventories (a process of its own; run N of them, and `serve --no-scan` for the HTTP side)')
    .option(
      '--batch <n>',
      'jobs taken at a time (1 to 10000); while batches go fast (result sets carried over or shared), up to 8 times as many',
      positiveInt('--batch', 'jobs', 10_000),
      25,
    )
    .option(
      '--threads <n>',
      'worker threads that run the engine (0 to 1024; default: one per core; 0 scans on the main thread)',
      nonNegativeInt('--threads', 'threads', 1024),
    )
    .option(
      '--idle-ms <ms>',
      'how long to wait when the queue is empty (1 to 3600000)',
      positiveInt('--idle-ms', 'milliseconds', 3_600_000),
      500,
    )
    .option(
      '--catalog-from <url>',
      'fetch compiled catalogs from this site server (GET /v1/catalogs/<sha256>, ' +
        'admin token), not from the site database; each is checked against the SHA-256 ' +
        'the database records',
    )
    .option('--token-file <file>', "with --catalog-from: a file holding the site's admin token (default $PATCHSCAN_ADMIN_TOKEN)")
    .option(
      '--cache <dir>',
      'where fetched catalogs are kept, checked, as <sha256>.pscat (default: the catalogs folder of the site directory)',
    )
    .option(
      '--keep-catalogs <n>',
      'cached catalog copies kept: the one in service and the n-1 used before it; older ones are deleted after each switch (1 to 1000)',
      positiveInt('--keep-catalogs', 'copies', 1000),
      2,
    )
    .option('--once', 'stop when the queue is empty, or with the error after 3 failed tries in a row (for scripts and tests)')
    .option(
      '--lease-seconds <s>',
      "how long a taken job is this worker's before another may take it (1 to 86399, " +
        'under a day as pg-boss requires; default: queue.leaseSeconds of the ' +
        'configuration, 300)',
      positiveInt('--lease-seconds', 'seconds', 86_399),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ patchscan worker --data site                                   # beside "patchscan serve --no-scan --data site"
  $ patchscan init --data site --database postgres://patchscan@db.example/site   # once, on another machine of a
  $ patchscan worker --data site                                                  # PostgreSQL site: join it, then scan
  $ PATCHSCAN_ADMIN_TOKEN=psa_… patchscan worker --data site --catalog-from https://site.example:8530
                                        # catalogs from a site server instead of the database (no shared disk needed)`,
    )
    .action((o: WorkerOptions) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const { batch, idleMs } = o;
        const lease = o.leaseSeconds ?? site.config.queue.leaseSeconds;
        const threads = o.threads ?? availableParallelism();
        const catalogs = await workerCatalogSource(site, o);
        const { ScanService } = await import('../../site/scan-service.js');
        const scanner = new ScanService(site, {
          threads,
          catalogs: catalogs.source,
          onCatalogSwitch: (row) =>
            process.stderr.write(
              `patchscan worker: catalog ${row.sha256.slice(0, 16)} is in service: the next batches are scanned with it\n`,
            ),
        });
        const stopping = new AbortController();
        const onSignal = (): void => stopping.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        process.stderr.write(
          `patchscan worker: taking scan jobs from ${site.store.location} (batches of ` +
            `${batch}, ${threads} scan thread(s); ${catalogs.described})\n`,
        );
        const pause = (ms: number): Promise<void> => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
        let scanned = 0,
          shared = 0,
          skipped = 0,
          carried = 0,
          pruned = 0,
          failures = 0;
        while (!stopping.signal.aborted) {
          let r;
          try {
            // One batch a call (a stop waits for one batch only): `batch` jobs, more while batches go fast.
            r = await scanner.runQueue(scanner.batchSize(batch), batch, lease);
            failures = 0;
          } catch (e) {
            // The batch's jobs went back with a backoff; a database outage is waited out, not fatal. Other failures
            // (a catalog that cannot be fetched or does not verify) are tried again less and less often, up to 15 s.
            process.stderr.write(`patchscan worker: ${PatchscanError.is(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
            failures++;
            // A run that must end (--once) does not wait forever on what keeps failing (a catalog that cannot be
            // fetched): after a few tries the error is its outcome, with its exit status. An outage is waited out.
            if (o.once && failures >= ONCE_TRIES && !PatchscanError.is(e, 'STORE_UNAVAILABLE')) {
              await scanner.close();
              process.removeListener('SIGINT', onSignal);
              process.removeListener('SIGTERM', onSignal);
              throw e;
            }
            await pause(
              PatchscanError.is(e, 'STORE_UNAVAILABLE') ? idleMs : Math.min(idleMs * 2 ** (failures - 1), Math.max(idleMs, 15_000)),
            );
            continue;
          }
          scanned += r.scanned;
          shared += r.shared;
          carried += r.carried;
          pruned += r.pruned;
          skipped += r.skipped;
          if (r.scanned + r.skipped > 0) continue;
          if (o.once) break;
          await pause(idleMs);
        }
        await scanner.close();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        print(
          `patchscan worker: ${scanned} scanned (${shared} shared a stored result set, ` +
            `${carried} carried over from the previous catalog), ${skipped} skipped (not ` +
            `targeted or no inventory)${pruned > 0 ? `; ${pruned} result set(s) of earlier catalogs no client reads any more deleted` : ''}`,
        );
      }),
    );
}

/** Failed tries in a row after which `worker --once` stops with the error. */
const ONCE_TRIES = 3;

interface WorkerOptions extends SiteOptions {
  readonly batch: number;
  readonly idleMs: number;
  readonly once?: boolean;
  readonly leaseSeconds?: number;
  readonly threads?: number;
  readonly catalogFrom?: string;
  readonly tokenFile?: string;
  readonly cache?: string;
  readonly keepCatalogs: number;
}

/**
 * Where the worker's catalogs come from: a site server (`--catalog-from`, its admin token checked before the first
 * job), else the site directory or the site database. The token is read from --token-file or
 * $PATCHSCAN_ADMIN_TOKEN, never from the command line (where `ps` shows it), and never printed.
 */
async function workerCatalogSource(site: Site, o: WorkerOptions): Promise<{ source: CatalogSource; described: string }> {
  const cacheDir = o.cache ?? site.catalogsDir;
  const log = (line: string): void => void process.stderr.write(`patchscan worker: ${line}\n`);
  const retention = { keep: o.keepCatalogs, log };
  if (!o.catalogFrom) {
    if (o.tokenFile)
      throw new PatchscanError('BAD_ARGUMENT', '--token-file is the admin token for --catalog-from: give --catalog-from URL too');
    return {
      source: storeCatalogSource(site.store, cacheDir, retention),
      described: `catalogs from the site, copies cached in ${cacheDir} (the last ${o.keepCatalogs} kept)`,
    };
  }
  const server = catalogServerUrl(o.catalogFrom);
  let token: string;
  if (o.tokenFile) {
    try {
      token = readFileSync(o.tokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (e) {
      throw new PatchscanError(
        'IO',
        `cannot read --token-file ${o.tokenFile}: ${(e as Error).message}`,
        { file: o.tokenFile },
        { cause: e },
      );
    }
    if (!token)
      throw new PatchscanError('BAD_ARGUMENT', `--token-file ${o.tokenFile} is empty: put the site's admin token on its first line`);
  } else {
    token = process.env.PATCHSCAN_ADMIN_TOKEN?.trim() ?? '';
    if (!token)
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `--catalog-from needs the site's admin token: --token-file FILE, or ` +
          `$PATCHSCAN_ADMIN_TOKEN ("patchscan admin-token reset" on the site issues one)`,
      );
  }
  const source = new HttpCatalogSource(site.store, {
    server,
    token,
    cacheDir,
    retention,
    log,
  });
  if (source.cleartext)
    process.stderr.write(
      `patchscan worker: warning: the admin token goes to ${source.origin} unencrypted (http://): use https:// off this host\n`,
    );
  // A wrong token is said now (exit 2), not after the first sync; a server that is not up yet is only noted.
  const problem = await source.checkToken((await site.store.currentCatalog())?.sha256);
  if (problem) process.stderr.write(`patchscan worker: ${problem}; catalogs are fetched when needed\n`);
  return { source, described: `catalogs from ${source.origin}, verified copies cached in ${cacheDir} (the last ${o.keepCatalogs} kept)` };
}
