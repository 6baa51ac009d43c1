/**
 * `patchscan report …` and `patchscan compliance`: the site's reports as tables, JSON or CSV.
 */
import type { Command } from 'commander';
import { PatchscanError } from '../../../engine/errors.js';
import { notScannedMessage } from '../../site/not-scanned.js';
import {
  collectionsCsv,
  complianceCsv,
  groupRowsCsv,
  machinesCsv,
  staleCsv,
  syncCsv,
  TREND_COLUMNS,
  trendCsv,
} from '../../site/report-csv.js';
import {
  CatalogVersions,
  collectionSummary,
  complianceTrend,
  countsText,
  computerCompliance,
  cveCompliance,
  fleetSummary,
  groupSummary,
  isCveId,
  staleClients,
  syncHistory,
  updateCompliance,
  type ComputerCompliance,
  type UpdateCompliance,
  type UpdateInfo,
} from '../../site/reports.js';
import type { UpdateState } from '../../../engine/scanner/machine-scan.js';
import type { Site } from '../../site/site.js';
import { choice, nonNegativeInt } from './args.js';
import { print, siteOptions, withSite, type SiteOptions } from './site-options.js';

/** The update states a scan gives (any case on the command line). */
export const STATES: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];

/** Clients that have not reported for more days than this would be before the first date a Date can hold. */
const MAX_DAYS = 36_500;

type ReportOptions = SiteOptions & { json?: boolean; csv?: boolean };

const out = (o: ReportOptions, data: unknown, csv: () => string, table: () => string): void => {
  if (o.json) print(JSON.stringify(data, null, 2));
  else if (o.csv) process.stdout.write(csv());
  else print(table());
};

const fmt = (rows: readonly Record<string, unknown>[], cols: readonly string[]): string => {
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (xs: readonly string[]): string => xs.map((x, i) => (i === xs.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
};

async function notScanned(site: Site, name: string): Promise<PatchscanError> {
  return new PatchscanError('NOT_FOUND', await notScannedMessage(site.store, name));
}

const supLabel = (u: { superseded: boolean; possiblySuperseded: boolean }): string =>
  u.superseded ? 'yes' : u.possiblySuperseded ? 'possibly' : '';
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const day = (iso: string): string => iso.slice(0, 10);
const LISTING_HELP = 'also list Required updates that are superseded by an update Installed or Required on the machine (always counted)';

type ListingOptions = { state?: UpdateState; superseded?: boolean };
const listing = (o: ListingOptions): { state?: UpdateState; superseded: 'show' | 'hide' } => ({
  ...(o.state ? { state: o.state } : {}),
  superseded: o.superseded ? 'show' : 'hide',
});

export function addReportCommands(program: Command): void {
  const report = program
    .command('report')
    .description(
      'reports over the site database (table; --json; --csv): computer, update, cve, ' +
        'collections, classifications, products, stale, sync, trend',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ patchscan report computer PC-0042 --data site            # software updates compliance for a specific computer
  $ patchscan report update KB5034441 --state Required --csv  # who needs it (every update of the KB; also Installed, Unknown)
  $ patchscan report cve CVE-2024-21412                       # machines exposed, possibly exposed, unknown, not exposed
  $ patchscan report collections                              # per collection: members, scanned, compliant
  $ patchscan report classifications | products               # update states across the fleet
  $ patchscan report stale --days 14                          # clients that have not reported for 14 days
  $ patchscan report sync                                     # the sync history
"Required" counts updates that are Required and not superseded by an update Installed or Required on the machine;
superseded ones are counted apart and listed with --superseded (docs/semantics.md, "Counting").
The same data over HTTP (admin token): /v1/computers/<name>/compliance, /v1/updates/<KB>, /v1/cves/<CVE>,
/v1/reports/{collections,classifications,products,stale,trend}, /v1/sync — add ?format=csv for CSV.`,
    );
  const reportOpts = (c: Command): Command => siteOptions(c).option('--json', 'print JSON').option('--csv', 'print CSV');
  const stateOpt = (c: Command, what: string): Command =>
    c
      .option('--state <state>', `only ${what} in this state: ${STATES.join(', ')} (any case)`, choice('--state', STATES))
      .option('--superseded', LISTING_HELP);

  stateOpt(
    reportOpts(
      report
        .command('computer')
        .argument('<name>', 'the computer name, as enrolled')
        .description('software updates compliance for a specific computer'),
    ),
    'updates',
  ).action((name: string, o: ReportOptions & ListingOptions) =>
    withSite(o, async (site) => {
      const c = await computerCompliance(site.store, new CatalogVersions(site.store), name, listing(o));
      if (!c) throw await notScanned(site, name);
      out(
        o,
        c,
        () => complianceCsv(c),
        () =>
          `${computerHeader(c)}\n\n${fmt(
            c.updates.map((u) => ({
              state: u.state,
              superseded: supLabel(u),
              kb: u.kb ? `KB${u.kb}` : '-',
              released: day(u.releaseDate),
              classification: u.classification,
              severity: u.severity,
              cves: cut(u.cves.join(' '), 30),
              title: cut(u.title, 60),
            })),
            ['state', 'superseded', 'kb', 'released', 'classification', 'severity', 'cves', 'title'],
          )}${hiddenNote(c)}`,
      );
    }),
  );

  stateOpt(
    reportOpts(
      report
        .command('update')
        .argument('<KB|UpdateId>', 'a KB (KB5034441 or 5034441) or an update id (a GUID)')
        .description('one KB (every update carrying it) across the fleet: who needs it, who has it, Unknown because of which fact'),
    ),
    'machines',
  )
    .option('--limit <n>', 'machines to list (0: only the counts)', nonNegativeInt('--limit', 'machines'), 100)
    .action((id: string, o: ReportOptions & ListingOptions & { limit: number }) =>
      withSite(o, async (site) => {
        const u = await updateCompliance(site.store, new CatalogVersions(site.store), id, { ...listing(o), limit: o.limit });
        if (!u) throw new PatchscanError('NOT_FOUND', `no update ${id} in the catalog in service`);
        out(
          o,
          u,
          () => machinesCsv(u.machines.items),
          () =>
            [
              `${u.update.kb ? `KB${u.update.kb} ` : ''}${u.update.title} (` +
                `${u.update.classification}${u.update.severity ? `, ${u.update.severity}` : ''})`,
              ...updateLines(u.update),
              `Machines: ${countsText(u.counts)}`,
              ...(u.updates.length > 1
                ? [
                    '',
                    `${u.updates.length} updates carry it:`,
                    ...u.updates.map((x) => `  ${x.updateId}  ${countsText(x.counts)}  ${x.title}`),
                  ]
                : []),
              ...(u.unknownBecause.length
                ? ['', 'Unknown because:', ...u.unknownBecause.map((r) => `  ${String(r.machines).padStart(6)}  ${r.reason}`)]
                : []),
              '',
              machineTable(u.machines, u.updates.length > 1),
            ]
              .join('\n')
              .trimEnd(),
        );
      }),
    );

  stateOpt(
    reportOpts(
      report
        .command('cve')
        .argument('<CVE-id>', 'a CVE identifier, e.g. CVE-2024-21412 (any case)')
        .description('machines exposed to a CVE (an update fixing it is Required), possibly exposed, unknown, not exposed'),
    ),
    'machines',
  )
    .option('--limit <n>', 'machines to list (0: only the counts)', nonNegativeInt('--limit', 'machines'), 100)
    .action((id: string, o: ReportOptions & ListingOptions & { limit: number }) =>
      withSite(o, async (site) => {
        if (!isCveId(id)) throw new PatchscanError('BAD_ARGUMENT', `${JSON.stringify(id)} is not a CVE id: give CVE-YYYY-NNNN`);
        const c = await cveCompliance(site.store, new CatalogVersions(site.store), id, { ...listing(o), limit: o.limit });
        if (!c) throw new PatchscanError('NOT_FOUND', `no update of the catalog in service names ${id}`);
        out(
          o,
          c,
          () => machinesCsv(c.machines.items),
          () =>
            [
              `${c.cve}: ${c.exposed} exposed, ${c.possiblyExposed} possibly exposed (the fix ` +
                `is possibly superseded), ${c.unknown} unknown, ${c.notExposed} not exposed, of ` +
                `${c.scanned} scanned`,
              '',
              `Fixed by ${c.updates.length} update(s):`,
              ...c.updates.map(
                (x) => `  ${x.kb ? `KB${x.kb}` : x.updateId}  released ${day(x.releaseDate) || '?'}  ${countsText(x.counts)}  ${x.title}`,
              ),
              '',
              machineTable(c.machines, true),
            ]
              .join('\n')
              .trimEnd(),
        );
      }),
    );

  reportOpts(
    report
      .command('collections')
      .description('per collection: members, enrolled, scanned, compliant, Required (and superseded) and Unknown updates'),
  ).action((o: ReportOptions) =>
    withSite(o, async (site) => {
      const rows = await collectionSummary(site.store);
      out(
        o,
        rows,
        () => collectionsCsv(rows),
        () =>
          fmt(rows as unknown as Record<string, unknown>[], [
            'name',
            'limitedTo',
            'members',
            'enrolled',
            'scanned',
            'compliant',
            'required',
            'superseded',
            'possiblySuperseded',
            'unknown',
          ]),
      );
    }),
  );

  for (const kind of ['classification', 'product'] as const) {
    reportOpts(
      report
        .command(`${kind === 'classification' ? 'classifications' : 'products'}`)
        .description(`update states across the fleet per ${kind} (client × update)`),
    ).action((o: ReportOptions) =>
      withSite(o, async (site) => {
        const rows = await groupSummary(site.store, kind);
        out(
          o,
          rows,
          () => groupRowsCsv(rows),
          () =>
            fmt(rows as unknown as Record<string, unknown>[], [
              'name',
              'required',
              'superseded',
              'possiblySuperseded',
              'installed',
              'unknown',
            ]),
        );
      }),
    );
  }
  reportOpts(report.command('stale').description('clients that have not reported for N days'))
    .option('--days <n>', `days without an upload (0 to ${MAX_DAYS})`, nonNegativeInt('--days', 'days', MAX_DAYS), 7)
    .action((o: ReportOptions & { days: number }) =>
      withSite(o, async (site) => {
        const p = await staleClients(site.store, o.days, 10_000);
        out(
          o,
          p,
          () => staleCsv(p.items),
          () => `${p.total} client(s) have not reported for ${o.days} day(s)\n\n${fmt(p.items, ['name', 'lastUpload', 'lastScan'])}`,
        );
      }),
    );

  reportOpts(report.command('sync').description('the sync history and the catalog in service')).action((o: ReportOptions) =>
    withSite(o, async (site) => {
      const h = await syncHistory(site.store, 100, { path: true });
      out(
        o,
        h,
        () => syncCsv(h.messages),
        () => fmt(h.messages as unknown as Record<string, unknown>[], ['at', 'messageId', 'severity', 'text']),
      );
    }),
  );

  reportOpts(report.command('trend').description('fleet compliance per day (what the console charts)')).action((o: ReportOptions) =>
    withSite(o, async (site) => {
      const rows = await complianceTrend(site.store);
      out(
        o,
        rows,
        () => trendCsv(rows),
        () => fmt(rows as unknown as Record<string, unknown>[], TREND_COLUMNS),
      );
    }),
  );

  siteOptions(program.command('compliance'))
    .description('software updates compliance for a specific computer (its latest scan), or the fleet summary without a name')
    .argument('[computer]', 'computer name')
    .option('--json', 'print JSON')
    .option('--superseded', LISTING_HELP)
    .action((name: string | undefined, o: SiteOptions & { json?: boolean; superseded?: boolean }) =>
      withSite(o, async (site) => {
        if (!name) {
          const s = await fleetSummary(site.store);
          print(
            o.json
              ? JSON.stringify(s, null, 2)
              : `Clients ${s.clients}, scanned ${s.scanned}, compliant ${s.compliant}; ` +
                  `${countsText(s.states)}; queue ${s.queue.expedited} expedited, ${s.queue.normal} normal`,
          );
          return;
        }
        const c = await computerCompliance(site.store, new CatalogVersions(site.store), name, listing(o));
        if (!c) throw await notScanned(site, name);
        if (o.json) {
          print(JSON.stringify(c, null, 2));
          return;
        }
        print(`${computerHeader(c)}\n`);
        for (const u of c.updates)
          print(
            `${u.state.padEnd(13)} ` +
              `${(u.superseded ? 'sup' : u.possiblySuperseded ? 'sup?' : '').padEnd(5)}` +
              `${(u.kb ? `KB${u.kb}` : '-').padEnd(10)} ${u.title}`,
          );
        const note = hiddenNote(c);
        if (note) print(note.trimStart());
      }),
    );
}

function computerHeader(c: ComputerCompliance): string {
  return (
    `${c.computer} (${c.architecture ?? '?'}) scanned ${c.scannedAt} by "` +
    `${c.program}", catalog ${c.catalog.sha256.slice(0, 16)}: ${countsText(c.counts)}`
  );
}

function hiddenNote(c: ComputerCompliance): string {
  return c.hidden > 0 && c.superseded === 'hide'
    ? `\n\n${c.hidden} superseded Required update(s) not listed (--superseded lists them)`
    : '';
}

function updateLines(u: UpdateInfo): string[] {
  return [
    ...(u.releaseDate ? [`Released ${day(u.releaseDate)}`] : []),
    ...(u.moreInfoUrl ? [`More info ${u.moreInfoUrl}`] : []),
    ...(u.cves.length ? [`CVEs ${u.cves.join(' ')}`] : []),
  ];
}

function machineTable(m: UpdateCompliance['machines'], withUpdate: boolean): string {
  const rows = m.items.map((x) => ({ ...x, superseded: supLabel(x), reason: cut(x.reason, 100) }));
  return [
    fmt(rows, ['computer', ...(withUpdate ? ['updateId'] : []), 'state', 'superseded', 'scannedAt', 'reason']),
    m.total > m.items.length ? `… ${m.total - m.items.length} more (--limit)` : '',
  ].join('\n');
}
