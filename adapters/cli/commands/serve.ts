/**
 * `patchscan serve` (the site server) and `patchscan upload` (its client side).
 */
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { readBounded } from '../../inventory/read.js';
import { listenAddress } from './args.js';
import { openSite, print, requireInit, siteOptions, type SiteOptions } from './site-options.js';

/** SQLite read threads of `serve`: a slow report query keeps one busy while uploads' lookups take the other. */
export const SERVE_READ_THREADS = 2;

export function addServeCommands(program: Command): void {
  siteOptions(program.command('serve'))
    .description('run the site server: inventory uploads, the scan queue, the scheduled sync (loopback unless configured)')
    .option('--listen <host:port>', 'overrides listen of the configuration (port 0: any free port)', listenAddress('--listen'))
    .option('--no-scan', 'do not scan in this process: `patchscan worker` processes take the scan jobs')
    .action(async (o: SiteOptions & { listen?: string; scan: boolean }) => {
      // Reports' and the console's reads run on threads of their own: a slow one never holds the HTTP loop.
      const site = await openSite(o, { readThreads: SERVE_READ_THREADS });
      try {
        await requireInit(site);
        // The server (its routes and the web console) loads only for this command: every other command starts faster.
        const { serve } = await import('../../server/server.js');
        const s = await serve(site, {
          ...(o.listen ? { listen: o.listen } : {}),
          scanQueue: o.scan,
          log: (l) => process.stderr.write(`${l}\n`),
        });
        print(`patchscan serve: listening on ${s.url} (site ${site.dir}, database ${site.store.location}); Ctrl-C stops`);
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await s.close();
        print('patchscan serve: stopped');
      } finally {
        await site.close();
      }
    });

  program
    .command('upload')
    .description('send an inventory to the site server (the client side)')
    .argument('<file>', 'inventory file (JSON or msgpack)')
    .requiredOption('--server <url>', 'the site server, e.g. http://127.0.0.1:8530')
    .option('--token <token>', "this client's token (default $PATCHSCAN_TOKEN)")
    .option('--expedited', 'scan right away, ahead of scheduled work (after a deployment)')
    .option('--no-gzip', 'send uncompressed')
    .action(async (file: string, o: { server: string; token?: string; expedited?: boolean; gzip: boolean }) => {
      // Trimmed: a token read from tokens.csv (CRLF line ends) or a file often carries a "\r" or a newline.
      const token = (o.token ?? process.env.PATCHSCAN_TOKEN)?.trim();
      if (!token)
        throw new PatchscanError(
          'BAD_ARGUMENT',
          'give --token TOKEN (or set PATCHSCAN_TOKEN): "patchscan client enroll NAME" on the server issues one',
        );
      if (!/^[\x21-\x7e]+$/.test(token))
        throw new PatchscanError('BAD_ARGUMENT', '--token: a token is one word of printable ASCII (pst_…), as "client enroll" printed it');
      const { upload } = await import('../../server/upload-client.js');
      const r = await upload(o.server, token, readBounded(file), { expedited: o.expedited ?? false, gzip: o.gzip });
      if (r.status === 202) {
        // The server says why it will not be scanned soon (no catalog yet, not targeted): the same words as
        // compliance and the console (adapters/site/not-scanned.ts).
        const note = typeof r.body.note === 'string' ? `; not scanned yet: ${r.body.note}` : '';
        print(`Accepted (${String(r.body.queued)} scan queued${r.body.targeted ? ` by ${String(r.body.program)}` : ''}${note})`);
      } else {
        const err = r.body.error as { code?: string; message?: string } | undefined;
        process.stderr.write(
          `patchscan: upload of ${file} refused: ${r.status} ${err?.code ?? ''}: ${err?.message ?? JSON.stringify(r.body)}\n`,
        );
        process.exitCode = r.status >= 500 ? 1 : 2;
      }
    });
}
