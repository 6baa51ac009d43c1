/**
 * `patchscan rescan` and `patchscan queue status`: the scan queue from the command line.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { CatalogVersions, computerCompliance, countsText } from '../../site/reports.js';
import { SiteScanner } from '../../site/scan-service.js';
import { targetingProgram } from '../../site/targeting.js';
import { now } from '../../store/sql/store.js';
import { nonNegativeInt, positiveInt } from './args.js';
import { print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';

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
        const scanner = new SiteScanner(site);
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
          `Queued: ${status.queued.expedited} expedited, ${status.queued.normal} normal; running: ${status.active}; failed: ${status.failed}`,
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
    .option('--batch <n>', 'jobs taken at a time (1 to 10000)', positiveInt('--batch', 'jobs', 10_000), 25)
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
    .option('--once', 'stop when the queue is empty (for scripts and tests)')
    .option(
      '--lease-seconds <s>',
      "how long a taken job is this worker's before another may take it (1 to 86399, under a day as pg-boss requires; default: queue.leaseSeconds of the configuration, 300)",
      positiveInt('--lease-seconds', 'seconds', 86_399),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ patchscan worker --data site                                   # beside "patchscan serve --no-scan --data site"
  $ patchscan init --data site --database postgres://patchscan@db.example/site   # once, on another machine of a
  $ patchscan worker --data site                                                  # PostgreSQL site: join it, then scan`,
    )
    .action((o: SiteOptions & { batch: number; idleMs: number; once?: boolean; leaseSeconds?: number; threads?: number }) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const { batch, idleMs } = o;
        const lease = o.leaseSeconds ?? site.config.queue.leaseSeconds;
        const threads = o.threads ?? availableParallelism();
        const scanner = new SiteScanner(site, { threads });
        let stop = false;
        const onSignal = (): void => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        process.stderr.write(
          `patchscan worker: taking scan jobs from ${site.store.location} (batches of ${batch}, ${threads} scan thread(s))\n`,
        );
        let scanned = 0,
          shared = 0,
          skipped = 0,
          carried = 0;
        while (!stop) {
          let r;
          try {
            r = await scanner.runQueue(batch, batch, lease);
          } catch (e) {
            // The batch's jobs went back with a backoff; a database outage is waited out, not fatal.
            process.stderr.write(`patchscan worker: ${PatchscanError.is(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
            await sleep(idleMs);
            continue;
          }
          scanned += r.scanned;
          shared += r.shared;
          carried += r.carried;
          skipped += r.skipped;
          if (r.scanned + r.skipped > 0) continue;
          if (o.once) break;
          await sleep(idleMs);
        }
        await scanner.close();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        print(
          `patchscan worker: ${scanned} scanned (${shared} shared a stored result set, ${carried} carried over from the previous catalog), ${skipped} skipped (not targeted or no inventory)`,
        );
      }),
    );
}
