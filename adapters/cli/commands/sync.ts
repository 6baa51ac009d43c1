/**
 * `patchscan sync [status]`: fetch the catalog once; show the sync history.
 */
import type { Command } from 'commander';
import { syncHistory } from '../../site/reports.js';
import { PatchscanError } from '../../../engine/errors.js';
import type { SyncProgress } from '../../sync/sync.js';
import { ProgressBar } from '../progress.js';
import { nonNegativeInt } from './args.js';
import { print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';

const SYNC_LABEL: Record<SyncProgress['phase'], string> = {
  download: 'download',
  copy: 'copying',
  verify: 'checking',
  hash: 'hashing',
  unpack: 'unpacking',
  package: 'package',
  fragments: 'fragments',
  compile: 'compiling',
  write: 'writing',
};

export function addSyncCommands(program: Command): void {
  siteOptions(program.command('sync'))
    .description(
      'fetch the catalog once (URL or folder); a new one is verified, imported, ' +
        'compiled and swapped in, and every stored inventory is rescanned. "sync status" ' +
        'shows the history',
    )
    .argument('[status]', '"status": the sync history (6709 started, 6710 done, 6711 failed) and the catalog in service')
    .option(
      '--source <url|folder|file>',
      'overrides sync.source of the configuration: an https:// URL, a folder an admin fills, or a wsusscn2.cab file',
    )
    .option('-n, --limit <n>', 'status: messages to show', nonNegativeInt('--limit', 'messages'), 20)
    .option('--json', 'status: print JSON')
    .option('-q, --quiet', 'no progress (on a terminal a progress line; elsewhere a line every $PATCHSCAN_PROGRESS_SECONDS, default 5)')
    .action(async (what: string | undefined, o: SiteOptions & { source?: string; limit: number; json?: boolean; quiet?: boolean }) => {
      if (what !== undefined && what !== 'status')
        throw new PatchscanError('BAD_ARGUMENT', `unknown sync action "${what}": use "patchscan sync" or "patchscan sync status"`);
      if (what === 'status') {
        await withSite(o, async (site) => {
          // The same answer as `report sync --json` (GET /v1/sync: without the file's path).
          const h = await syncHistory(site.store, o.limit, { path: true });
          if (o.json) {
            print(JSON.stringify(h, null, 2));
            return;
          }
          const cat = h.catalog;
          print(
            cat
              ? `Catalog in service: ${cat.sha256} (${cat.revisions} revisions, imported ` +
                  `${cat.importedAt}${cat.signer ? `, signed by ${cat.signer}${cat.signedAt ? ` on ${cat.signedAt}` : ''}` : ', unsigned'})`
              : 'No catalog in service yet.',
          );
          print('');
          for (const m of h.messages) print(`${m.at}  ${m.messageId}  ${m.severity.padEnd(13)}  ${m.text}`);
          if (h.messages.length === 0) print('No sync has run yet.');
        });
        return;
      }
      await withSite(o, async (site) => {
        await requireInit(site);
        // Progress on stderr: a redrawn line on a terminal, a line every few seconds in a log or a pipe.
        const bar = new ProgressBar(process.stderr, o.quiet ? 'off' : process.stderr.isTTY === true ? 'tty' : 'lines');
        const onProgress = (p: SyncProgress): void =>
          bar.update({ label: SYNC_LABEL[p.phase], done: p.done, total: p.total, unit: p.unit, ...(p.detail ? { detail: p.detail } : {}) });
        const onLog = (line: string): void => {
          bar.done(); // a log line ends the current progress line first
          process.stderr.write(`${line}\n`);
        };
        let r;
        try {
          // The catalog importer (CAB, XML) loads only when a sync runs.
          const { runSync } = await import('../../sync/sync.js');
          r = await runSync(site, { ...(o.source ? { source: o.source } : {}), onLog, onProgress });
        } finally {
          bar.done();
        }
        print(`Sync ${r.outcome}: ${r.message}`);
        if (r.outcome === 'failed') process.exitCode = r.error?.code === 'IO' ? 1 : 2;
        else if (r.outcome === 'busy') process.exitCode = 1; // another sync of this site is running; nothing changed
      });
    });
}
