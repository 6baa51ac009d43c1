/**
 * `patchscan report …` and `patchscan compliance`: the site's reports as tables, JSON or CSV.
 */
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { toCsv } from '../../report/csv.js';
import { CatalogVersions, collectionSummary, complianceTrend, computerCompliance, fleetSummary, groupSummary, staleClients, updateCompliance } from '../../site/reports.js';
import type { Site } from '../../site/site.js';
import { choice, nonNegativeInt } from './args.js';
import { print, siteOptions, withSite, type SiteOptions } from './site-options.js';

/** The update states a scan gives (any case on the command line). */
export const STATES = ['Installed', 'Required', 'NotApplicable', 'Unknown'] as const;

/** Clients that have not reported for more days than this would be before the first date a Date can hold. */
const MAX_DAYS = 36_500;

type ReportOptions = SiteOptions & { json?: boolean; csv?: boolean };

const out = (o: ReportOptions, data: unknown, rows: readonly object[], table: () => string): void => {
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

async function notScanned(site: Site, name: string): Promise<PatchscanError> {
  return new PatchscanError('NOT_FOUND', (await site.store.client(name)) ? `${name} has not been scanned yet` : `no computer named ${name}`);
}

export function addReportCommands(program: Command): void {
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
  const reportOpts = (c: Command): Command => siteOptions(c).option('--json', 'print JSON').option('--csv', 'print CSV');

  reportOpts(report.command('computer').argument('<name>').description('software updates compliance for a specific computer'))
    .action((name: string, o: ReportOptions) => withSite(o, async (site) => {
      const c = await computerCompliance(site.store, new CatalogVersions(site.store), name);
      if (!c) throw await notScanned(site, name);
      const rows = c.updates.map((u) => ({ computer: c.computer, kb: u.kb, title: u.title, classification: u.classification, severity: u.severity, state: u.state, superseded: u.superseded, reason: u.reason, scannedAt: c.scannedAt, catalog: c.catalog.sha256 }));
      out(o, c, rows, () => `${c.computer} (${c.architecture ?? '?'}) scanned ${c.scannedAt} by "${c.program}", catalog ${c.catalog.sha256.slice(0, 16)}: Installed ${c.counts.Installed}, Required ${c.counts.Required}, Unknown ${c.counts.Unknown}\n\n${fmt(rows.map((r) => ({ ...r, kb: r.kb ? `KB${r.kb}` : '-', superseded: r.superseded ? 'yes' : '', title: r.title.length > 60 ? `${r.title.slice(0, 59)}…` : r.title })), ['state', 'superseded', 'kb', 'classification', 'severity', 'title'])}`);
    }));

  reportOpts(report.command('update').argument('<KB|UpdateId>').description('one update across the fleet: who needs it, who has it, Unknown because of which fact'))
    .option('--state <state>', `only machines in this state: ${STATES.join(', ')} (any case; the site stores the updates a machine has or needs, so NotApplicable lists none)`, choice('--state', STATES))
    .option('--limit <n>', 'machines to list (0: only the counts)', nonNegativeInt('--limit', 'machines'), 100)
    .action((id: string, o: ReportOptions & { state?: string; limit: number }) => withSite(o, async (site) => {
      const u = await updateCompliance(site.store, new CatalogVersions(site.store), id, { ...(o.state ? { state: o.state } : {}), limit: o.limit });
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
    .action((o: ReportOptions) => withSite(o, async (site) => {
      const rows = await collectionSummary(site.store);
      out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['name', 'limitedTo', 'members', 'scanned', 'compliant', 'required', 'unknown']));
    }));

  for (const kind of ['classification', 'product'] as const) {
    reportOpts(report.command(`${kind === 'classification' ? 'classifications' : 'products'}`).description(`update states across the fleet per ${kind} (client × update)`))
      .action((o: ReportOptions) => withSite(o, async (site) => {
        const rows = await groupSummary(site.store, kind);
        out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['name', 'installed', 'required', 'unknown']));
      }));
  }

  reportOpts(report.command('stale').description('clients that have not reported for N days'))
    .option('--days <n>', `days without an upload (0 to ${MAX_DAYS})`, nonNegativeInt('--days', 'days', MAX_DAYS), 7)
    .action((o: ReportOptions & { days: number }) => withSite(o, async (site) => {
      const p = await staleClients(site.store, o.days, 10_000);
      out(o, p, p.items, () => `${p.total} client(s) have not reported for ${o.days} day(s)\n\n${fmt(p.items as unknown as Record<string, unknown>[], ['name', 'lastUpload', 'lastScan'])}`);
    }));

  reportOpts(report.command('sync').description('the sync history and the catalog in service'))
    .action((o: ReportOptions) => withSite(o, async (site) => {
      const msgs = await site.store.syncMessages(100);
      out(o, { catalog: (await site.store.currentCatalog()) ?? null, messages: msgs }, msgs, () => fmt(msgs as unknown as Record<string, unknown>[], ['at', 'message_id', 'severity', 'text']));
    }));

  reportOpts(report.command('trend').description('fleet compliance per day (what the console charts)'))
    .action((o: ReportOptions) => withSite(o, async (site) => {
      const rows = await complianceTrend(site.store);
      out(o, rows, rows, () => fmt(rows as unknown as Record<string, unknown>[], ['day', 'clients', 'scanned', 'compliant', 'installed', 'required', 'unknown']));
    }));

  siteOptions(program.command('compliance'))
    .description('software updates compliance for a specific computer (its latest scan), or the fleet summary without a name')
    .argument('[computer]', 'computer name')
    .option('--json', 'print JSON')
    .action((name: string | undefined, o: SiteOptions & { json?: boolean }) =>
      withSite(o, async (site) => {
        if (!name) {
          const s = await fleetSummary(site.store);
          print(o.json ? JSON.stringify(s, null, 2) : `Clients ${s.clients}, scanned ${s.scanned}, compliant ${s.compliant}; Installed ${s.states.Installed}, Required ${s.states.Required}, Unknown ${s.states.Unknown}; queue ${s.queue.expedited} expedited, ${s.queue.normal} normal`);
          return;
        }
        const c = await computerCompliance(site.store, new CatalogVersions(site.store), name);
        if (!c) throw await notScanned(site, name);
        if (o.json) {
          print(JSON.stringify(c, null, 2));
          return;
        }
        print(`${c.computer} (${c.architecture ?? '?'}) scanned ${c.scannedAt} by "${c.program}" against catalog ${c.catalog.sha256.slice(0, 16)}`);
        print(`Installed ${c.counts.Installed}, Required ${c.counts.Required}, Unknown ${c.counts.Unknown}\n`);
        for (const u of c.updates) print(`${u.state.padEnd(13)} ${u.superseded ? 'sup ' : '    '}${(u.kb ? `KB${u.kb}` : '-').padEnd(10)} ${u.title}`);
      }));
}
