/**
 * `patchscan collection list | show | unlimit | limit | add`: ITMU's collections, membership and the pilot.
 */
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { collectionSummary } from '../../site/reports.js';
import { members } from '../../site/targeting.js';
import { print, siteOptions, withSite, type SiteOptions } from './site-options.js';

export function addCollectionCommands(program: Command): void {
  const collection = program.command('collection').description("ITMU's collections: membership, limiting, the pilot");
  siteOptions(collection.command('list'))
    .description('every collection with its member count and limiting collection')
    .action((o: SiteOptions) =>
      withSite(o, async (site) => {
        // The members counted as every report counts them (collectionSummary: one membership rule).
        for (const r of await collectionSummary(site.store)) {
          print(
            `${r.name.padEnd(42)} ${String(r.members).padStart(6)} member(s), ${r.enrolled} ` +
              `enrolled${r.limitedTo ? `  limited to "${r.limitedTo}"` : ''}`,
          );
        }
      }),
    );
  siteOptions(collection.command('show'))
    .description('a collection: its query, its limiting collection, its members')
    .argument('<name>')
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        const c = await site.store.collectionByName(name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}" (patchscan collection list)`);
        const limit = c.limit_to ? await site.store.collection(c.limit_to) : undefined;
        print(
          `${c.name}\n  query: ` +
            `${c.architecture === '*' ? 'every client' : c.architecture ? `clients with architecture ${c.architecture}` : 'direct members only'}` +
            `${limit ? `\n  limited to: ${limit.name}` : ''}`,
        );
        for (const m of await members(site.store, c.id)) print(`  member ${m}`);
      }),
    );
  siteOptions(collection.command('unlimit'))
    .description("remove a collection's limiting collection (the seed's last step: every eligible client is then scanned)")
    .argument('<name>')
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        const c = await site.store.collectionByName(name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}" (patchscan collection list)`);
        await site.store.setCollectionLimit(c.id, null);
        // Clients that uploaded while they were not targeted are queued now: nobody has to send anything again.
        const { ScanService } = await import('../../site/scan-service.js');
        const n = await new ScanService(site).rescanAll(`collection ${name} unlimited`);
        print(
          `"${name}" is no longer limited; it has ` +
            `${(await members(site.store, c.id)).length} member(s). Queued ${n} stored ` +
            `inventory(ies) for a scan.`,
        );
      }),
    );
  siteOptions(collection.command('limit'))
    .description('limit a collection to the members of another (as init does with the pre-production collection)')
    .argument('<name>')
    .requiredOption('--to <collection>', 'the limiting collection')
    .action((name: string, o: SiteOptions & { to: string }) =>
      withSite(o, async (site) => {
        const c = await site.store.collectionByName(name);
        const to = await site.store.collectionByName(o.to);
        if (!c || !to) throw new PatchscanError('NOT_FOUND', `no collection named "${!c ? name : o.to}"`);
        await site.store.setCollectionLimit(c.id, to.id);
        print(`"${name}" is limited to "${o.to}".`);
      }),
    );
  siteOptions(collection.command('add'))
    .description('add a computer to a collection directly (e.g. a second test computer to the pre-production collection)')
    .argument('<name>')
    .argument('<computer>')
    .action((name: string, computer: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        const c = await site.store.collectionByName(name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no collection named "${name}"`);
        await site.store.addMember(c.id, computer);
        print(`${computer} is a member of "${name}".`);
      }),
    );
}
