/**
 * `patchscan group create | list | show | computers | computer | add | remove | deadline | delete`: software update
 * groups with deadlines (Configuration Manager's), and their compliance per collection and per computer.
 */
import type { Command } from 'commander';
import { groupCollectionsCsv, groupComputerCsv, groupComputersCsv, groupsCsv } from '../../site/report-csv.js';
import { CatalogVersions } from '../../site/reports.js';
import {
  addToGroup,
  createUpdateGroup,
  criteriaFrom,
  deleteUpdateGroup,
  describeCriteria,
  GROUP_STATES,
  groupComputer,
  groupComputers,
  listUpdateGroups,
  parseDeadline,
  percentText,
  removeFromGroup,
  setGroupDeadline,
  updateGroupDetail,
  type GroupInfo,
  type GroupState,
  type GroupTally,
} from '../../site/update-groups.js';
import { choice, nonNegativeInt } from './args.js';
import { print, siteOptions, withSite, type SiteOptions } from './site-options.js';

type OutputOptions = SiteOptions & { json?: boolean; csv?: boolean };
type CreateOptions = SiteOptions & {
  kb?: string[];
  releasedAfter?: string;
  releasedBefore?: string;
  classification?: string[];
  product?: string[];
  deadline?: string;
  json?: boolean;
};

const table = (rows: readonly Record<string, unknown>[], cols: readonly string[]): string => {
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (xs: readonly string[]): string => xs.map((x, i) => (i === xs.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
};

const out = (o: OutputOptions, data: unknown, csv: () => string, text: () => string): void => {
  if (o.json) print(JSON.stringify(data, null, 2));
  else if (o.csv) process.stdout.write(csv());
  else print(text());
};

/** Rows for a table: a compliance without members reads n/a (JSON keeps null; CSV an empty cell). */
const withPercentText = <R extends { compliancePercent: number | null }>(
  rows: readonly R[],
): (R | (Omit<R, 'compliancePercent'> & { compliancePercent: string }))[] =>
  rows.map((r) => (r.compliancePercent === null ? { ...r, compliancePercent: 'n/a' } : r));

const deadlineText = (g: GroupInfo): string =>
  g.deadline === null ? 'no deadline' : `deadline ${g.deadline}${g.pastDeadline ? ' (passed)' : ''}`;
const tallyText = (t: GroupTally): string =>
  `${t.members} computer(s): ${t.compliant} compliant (${percentText(t)}), ${t.nonCompliant} non-compliant, ${t.unknown} unknown` +
  (t.overdue ? `, ${t.overdue} overdue` : '');

const deadlineOption =
  (flag: string) =>
  (raw: string): string =>
    parseDeadline(flag, raw);

export function addGroupCommands(program: Command): void {
  const group = program
    .command('group')
    .description(
      'software update groups with deadlines: make one from KBs, a release window, classifications or products; ' +
        'compliance per collection and computer',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ patchscan group create "Patch Tuesday 2026-12" --released-after 2026-12-01 --released-before 2027-01-01 \\
      --classification "Security Updates" --deadline 2026-12-24
  $ patchscan group create "Edge baseline" --kb 5034441 5034122 --product "Windows 10, version 22H2"
  $ patchscan group show "Patch Tuesday 2026-12"                 # compliance per collection, overdue machines
  $ patchscan group computers "Patch Tuesday 2026-12" --overdue   # machines still missing an update after the deadline
  $ patchscan group computer "Patch Tuesday 2026-12" PC-0042      # each update of the group on one computer
A group holds the updates that matched when it was made (every update of a KB: each architecture's and OS's);
"group add" and "group remove" change it. A computer is non-compliant while a group update is Required and not
superseded on it, unknown while one is Unknown or it was not scanned, compliant otherwise.
The same over HTTP (admin token): GET/POST /v1/groups, GET/PATCH/DELETE /v1/groups/<name>, /v1/groups/<name>/computers.`,
    );
  const outputs = (c: Command): Command => siteOptions(c).option('--json', 'print JSON').option('--csv', 'print CSV');

  siteOptions(group.command('create'))
    .description('make a group from the catalog in service: every criterion given must match (any of several values)')
    .argument('<name>', "the group's name (1 to 100 characters)")
    .option('--kb <kb...>', 'KB numbers or UpdateIds (space- or comma-separated): every update of each')
    .option('--released-after <day>', 'released on or after this day (YYYY-MM-DD)')
    .option('--released-before <day>', 'released before this day (YYYY-MM-DD)')
    .option('--classification <name...>', 'classification titles, e.g. "Security Updates" (any case)')
    .option('--product <name...>', 'product titles as the catalog names them, whole, e.g. "Windows 10, version 22H2" (any case)')
    .option(
      '--deadline <when>',
      'a day (YYYY-MM-DD, 00:00 UTC) or a time with its zone (2026-12-24T18:00Z): machines still missing an update after it are overdue',
      deadlineOption('--deadline'),
    )
    .option('--json', 'print the group as JSON')
    .action((name: string, o: CreateOptions) =>
      withSite(o, async (site) => {
        const criteria = criteriaFrom({
          ...(o.kb ? { kbs: o.kb } : {}),
          ...(o.releasedAfter !== undefined ? { releasedAfter: o.releasedAfter } : {}),
          ...(o.releasedBefore !== undefined ? { releasedBefore: o.releasedBefore } : {}),
          ...(o.classification ? { classifications: o.classification } : {}),
          ...(o.product ? { products: o.product } : {}),
        });
        const g = await createUpdateGroup(
          site.store,
          new CatalogVersions(site.store, site.catalogsDir),
          name,
          criteria,
          o.deadline ?? null,
        );
        if (o.json) print(JSON.stringify(g, null, 2));
        else print(`Created "${g.name}" with ${g.updates} update(s) (${describeCriteria(g.criteria)}); ${deadlineText(g)}.`);
      }),
    );

  outputs(group.command('list'))
    .description("every group: its updates, deadline and the fleet's compliance")
    .action((o: OutputOptions) =>
      withSite(o, async (site) => {
        const groups = await listUpdateGroups(site.store, new CatalogVersions(site.store, site.catalogsDir));
        const rows = groups.map((g) => ({
          name: g.name,
          updates: g.updates,
          deadline: g.deadline ?? '',
          members: g.fleet.members,
          compliant: g.fleet.compliant,
          nonCompliant: g.fleet.nonCompliant,
          unknown: g.fleet.unknown,
          overdue: g.fleet.overdue,
          compliancePercent: g.fleet.compliancePercent,
          criteria: describeCriteria(g.criteria),
        }));
        out(
          o,
          groups,
          () => groupsCsv(groups),
          () =>
            rows.length === 0
              ? 'No update groups yet: patchscan group create NAME --kb … | --released-after … | --classification … | --product …'
              : table(withPercentText(rows), [
                  'name',
                  'updates',
                  'deadline',
                  'members',
                  'compliant',
                  'nonCompliant',
                  'unknown',
                  'overdue',
                  'compliancePercent',
                ]),
        );
      }),
    );

  outputs(group.command('show'))
    .description('a group: how it was made, its updates, its compliance across the fleet and per collection')
    .argument('<name>')
    .action((name: string, o: OutputOptions) =>
      withSite(o, async (site) => {
        const g = await updateGroupDetail(site.store, new CatalogVersions(site.store, site.catalogsDir), name);
        const rows = g.collections.map((c) => ({ ...c }));
        out(
          o,
          g,
          () => groupCollectionsCsv(g.collections),
          () =>
            [
              `${g.name}: ${g.updates} update(s), ${deadlineText(g)}; made from ${describeCriteria(g.criteria)} on ${g.createdAt}`,
              `Fleet: ${tallyText(g.fleet)}`,
              '',
              table(withPercentText(rows), [
                'collection',
                'members',
                'compliant',
                'nonCompliant',
                'unknown',
                'overdue',
                'compliancePercent',
              ]),
              '',
              'Updates:',
              ...g.updateList.map((u) => `  ${(u.kb ? `KB${u.kb}` : '-').padEnd(10)} ${u.title} (${u.updateId})`),
            ].join('\n'),
        );
      }),
    );

  outputs(group.command('computers'))
    .description("the group's computers with their state: every one, one collection's, or only the overdue ones")
    .argument('<name>')
    .option('--collection <name>', "only this collection's members")
    .option('--state <state>', `only computers in this state: ${GROUP_STATES.join(', ')} (any case)`, choice('--state', GROUP_STATES))
    .option('--overdue', 'only computers still missing a group update after the deadline')
    .option('--limit <n>', 'computers to list (0: only the total)', nonNegativeInt('--limit', 'computers'), 1000)
    .action((name: string, o: OutputOptions & { collection?: string; state?: GroupState; overdue?: boolean; limit: number }) =>
      withSite(o, async (site) => {
        const page = await groupComputers(site.store, new CatalogVersions(site.store, site.catalogsDir), name, {
          ...(o.collection !== undefined ? { collection: o.collection } : {}),
          ...(o.state ? { state: o.state } : {}),
          ...(o.overdue ? { overdue: true } : {}),
          limit: o.limit,
        });
        const rows = page.items.map((c) => ({ ...c, scannedAt: c.scannedAt ?? '', architecture: c.architecture ?? '' }));
        out(
          o,
          page,
          () => groupComputersCsv(page.items),
          () =>
            [
              `${page.total} computer(s)`,
              ...(rows.length
                ? [
                    '',
                    table(
                      rows.map((r) => ({ ...r, overdue: r.overdue ? 'yes' : '' })),
                      [
                        'computer',
                        'state',
                        'overdue',
                        'missing',
                        'unknown',
                        'possiblySuperseded',
                        'installed',
                        'superseded',
                        'notApplicable',
                        'scannedAt',
                      ],
                    ),
                  ]
                : []),
              page.total > rows.length ? `… ${page.total - rows.length} more (--limit)` : '',
            ]
              .join('\n')
              .trimEnd(),
        );
      }),
    );

  outputs(group.command('computer'))
    .description("one computer against the group: each update's state on it")
    .argument('<name>')
    .argument('<computer>')
    .action((name: string, computer: string, o: OutputOptions) =>
      withSite(o, async (site) => {
        const c = await groupComputer(site.store, new CatalogVersions(site.store, site.catalogsDir), name, computer);
        out(
          o,
          c,
          () => groupComputerCsv(c.updates),
          () =>
            [
              `${c.computer}: ${c.state}${c.overdue ? ' (overdue)' : ''}; missing ${c.missing}, unknown ${c.unknown}, ` +
                `possibly superseded ${c.possiblySuperseded}, installed ${c.installed}, superseded ${c.superseded}, ` +
                `not applicable ${c.notApplicable}${c.scannedAt ? `; scanned ${c.scannedAt}` : '; never scanned'}`,
              '',
              table(
                c.updates.map((u) => ({
                  state: u.state,
                  missing: u.missing ? 'yes' : '',
                  superseded: u.superseded ? 'yes' : u.possiblySuperseded ? 'possibly' : '',
                  kb: u.kb ? `KB${u.kb}` : '-',
                  title: u.title,
                })),
                ['state', 'missing', 'superseded', 'kb', 'title'],
              ),
            ].join('\n'),
        );
      }),
    );

  siteOptions(group.command('add'))
    .description('add updates to a group: every update of each KB, or an UpdateId, from the catalog in service')
    .argument('<name>')
    .argument('<KB|UpdateId...>')
    .action((name: string, ids: string[], o: SiteOptions) =>
      withSite(o, async (site) => {
        const r = await addToGroup(site.store, new CatalogVersions(site.store, site.catalogsDir), name, ids);
        print(`Added ${r.added} update(s) to "${name}"; it holds ${r.updates}.`);
      }),
    );

  siteOptions(group.command('remove'))
    .description('remove updates from a group (every update of a KB it holds, or one UpdateId)')
    .argument('<name>')
    .argument('<KB|UpdateId...>')
    .action((name: string, ids: string[], o: SiteOptions) =>
      withSite(o, async (site) => {
        const r = await removeFromGroup(site.store, name, ids);
        print(`Removed ${r.removed} update(s) from "${name}"; it holds ${r.updates}.`);
      }),
    );

  siteOptions(group.command('deadline'))
    .description("set or clear a group's deadline")
    .argument('<name>')
    .argument('<when>', 'a day (YYYY-MM-DD, 00:00 UTC), a time with its zone (2026-12-24T18:00Z), or "none"')
    .action((name: string, when: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        const g = await setGroupDeadline(site.store, name, when.trim().toLowerCase() === 'none' ? null : parseDeadline('<when>', when));
        print(`"${g.name}": ${deadlineText(g)}.`);
      }),
    );

  siteOptions(group.command('delete'))
    .description('delete a group (its definition only: scan results are not touched)')
    .argument('<name>')
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        await deleteUpdateGroup(site.store, name);
        print(`Deleted "${name}".`);
      }),
    );
}
