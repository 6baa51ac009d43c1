/**
 * `patchscan client enroll | list`: the clients that upload inventories.
 */
import type { Command } from 'commander';
import { print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';

export function addClientCommands(program: Command): void {
  const client = program.command('client').description('clients that upload inventories');
  siteOptions(client.command('enroll'))
    .description('issue a token for a client (stored hashed; printed once). Enrolling again replaces the token')
    .argument('<name>', 'the computer name the client will upload as')
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const token = await site.store.enroll(name);
        print(`Enrolled ${name}. Its token (shown once):\n  ${token}\nOn the client: patchscan upload --server URL --token ${token} inventory.json`);
      }));
  siteOptions(client.command('list'))
    .description('clients, their architecture, last upload and last scan')
    .action((o: SiteOptions) =>
      withSite(o, async (site) => {
        for (const c of await site.store.clients()) print(`${c.name.padEnd(24)} ${(c.architecture ?? '-').padEnd(6)} upload ${c.last_upload_at ?? '-'}  scan ${c.last_scan_at ?? '-'}${c.token_hash ? '' : '  (not enrolled)'}`);
      }));
}
