/**
 * `patchscan group …` as an administrator runs it: the built CLI as a child process against a site with a scanned
 * fleet. The numbers it prints (table, --json, --csv) are the library's for the same site; mistakes are one line
 * with a stable code and exit status 2; nothing is changed by a refused command. (`npm test` builds first.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogVersions } from '../../adapters/site/reports.js';
import { Site } from '../../adapters/site/site.js';
import { groupComputers, updateGroupDetail } from '../../adapters/site/update-groups.js';
import { runCliAsync, type CliRun } from '../helpers/serve.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

const run = (args: readonly string[]): Promise<CliRun> => runCliAsync(args);

describe('patchscan group', () => {
  const dir = tempDir();
  const data = ['--data', dir];
  let site: Site;
  let library: CatalogVersions;

  beforeAll(async () => {
    const made = await scannedSite(dir, { clients: 16, admin: 'psa_cli-groups' });
    await made.site.close();
    site = await Site.open(dir);
    library = new CatalogVersions(site.store, site.catalogsDir);
  }, 180_000);
  afterAll(async () => {
    await site.close();
  });

  it("create, list, show, computers, computer: the numbers are the library's", async () => {
    const made = await run([
      'group',
      'create',
      'Patch Tuesday',
      '--classification',
      'Security Updates',
      '--deadline',
      '2020-01-01',
      ...data,
    ]);
    expect(made.code, made.err).toBe(0);
    const detail = await updateGroupDetail(site.store, library, 'Patch Tuesday');
    expect(made.out).toBe(
      `Created "Patch Tuesday" with ${detail.updates} update(s) (classification Security Updates); ` +
        'deadline 2020-01-01T00:00:00.000Z (passed).\n',
    );
    expect(detail.fleet.overdue).toBeGreaterThan(0);

    const list = await run(['group', 'list', '--json', ...data]);
    expect(JSON.parse(list.out)).toEqual([JSON.parse(JSON.stringify({ ...detail, updateList: undefined, collections: undefined }))]);
    const table = await run(['group', 'list', ...data]);
    expect(table.out.split('\n')[0].split(/\s+/)).toEqual([
      'name',
      'updates',
      'deadline',
      'members', // as --json and --csv name it
      'compliant',
      'nonCompliant',
      'unknown',
      'overdue',
      'compliancePercent',
    ]);
    const f = detail.fleet;
    expect(
      table.out
        .split('\n')[2]
        .replace(/^Patch Tuesday/, 'PT')
        .split(/\s+/)
        .slice(0, 8),
    ).toEqual(['PT', detail.updates, '2020-01-01T00:00:00.000Z', f.members, f.compliant, f.nonCompliant, f.unknown, f.overdue].map(String));

    const show = await run(['group', 'show', 'patch tuesday', ...data]);
    expect(show.code, show.err).toBe(0);
    expect(show.out).toContain(
      `Fleet: ${f.members} computer(s): ${f.compliant} compliant (${f.compliancePercent}%), ` +
        `${f.nonCompliant} non-compliant, ${f.unknown} unknown, ${f.overdue} overdue`,
    );
    for (const c of detail.collections) {
      // A collection without members has no compliance to give: n/a, not 0 % (null in JSON).
      expect(c.compliancePercent === null).toBe(c.members === 0);
      const figures = [c.members, c.compliant, c.nonCompliant, c.unknown, c.overdue, c.compliancePercent ?? 'n/a'].join('\\s+');
      expect(show.out).toMatch(new RegExp(`\\n${c.collection.replace(/[()]/g, '\\$&')}\\s+${figures}\\n`));
    }
    expect(show.out.split('\n').filter((l) => /^ {2}(KB\d+|-) /.test(l))).toHaveLength(detail.updates);
    expect(JSON.parse((await run(['group', 'show', 'Patch Tuesday', '--json', ...data])).out)).toEqual(JSON.parse(JSON.stringify(detail)));
    const csv = await run(['group', 'show', 'Patch Tuesday', '--csv', ...data]);
    expect(csv.out.split('\r\n')[0]).toBe('collection,members,compliant,nonCompliant,unknown,overdue,compliancePercent');

    const overdue = await run(['group', 'computers', 'Patch Tuesday', '--overdue', '--csv', ...data]);
    const rows = overdue.out.trim().split('\r\n').slice(1);
    const want = await groupComputers(site.store, library, 'Patch Tuesday', { overdue: true, limit: 1000 });
    expect(rows.map((r) => r.split(',')[0])).toEqual(want.items.map((c) => c.computer));
    expect(rows.every((r) => r.split(',')[3] === 'NonCompliant')).toBe(true);
    const compliant = await run([
      'group',
      'computers',
      'Patch Tuesday',
      '--state',
      'compliant',
      '--collection',
      'Microsoft Updates Tool x64',
      '--json',
      ...data,
    ]);
    expect(JSON.parse(compliant.out)).toEqual(
      JSON.parse(
        JSON.stringify(
          await groupComputers(site.store, library, 'Patch Tuesday', {
            state: 'Compliant',
            collection: 'Microsoft Updates Tool x64',
            limit: 1000,
          }),
        ),
      ),
    );

    const pc = want.items[0].computer;
    const one = await run(['group', 'computer', 'Patch Tuesday', pc, ...data]);
    expect(one.code, one.err).toBe(0);
    expect(one.out.split('\n')[0]).toMatch(new RegExp(`^${pc}: NonCompliant \\(overdue\\); missing ${want.items[0].missing}, `));
    const oneJson = JSON.parse((await run(['group', 'computer', 'Patch Tuesday', pc, '--json', ...data])).out) as {
      updates: { missing: boolean; state: string }[];
    };
    expect(oneJson.updates.filter((u) => u.missing)).toHaveLength(want.items[0].missing);
    expect(
      one.out
        .split('\n')
        .slice(4)
        .filter((l) => l.trim()),
    ).toHaveLength(oneJson.updates.length); // a line per update
  }, 120_000);

  it('add, remove, deadline, delete', async () => {
    await run([
      'group',
      'create',
      'Small',
      '--kb',
      (await updateGroupDetail(site.store, library, 'Patch Tuesday')).updateList[0].kb,
      ...data,
    ]);
    const held = (await updateGroupDetail(site.store, library, 'Patch Tuesday')).updateList.filter((u) => u.kb);
    const kbs = [...new Set(held.map((u) => u.kb))].slice(1, 3);
    const add = await run(['group', 'add', 'Small', kbs.map((k) => `KB${k}`).join(','), ...data]);
    expect(add.code, add.err).toBe(0);
    const after = await updateGroupDetail(site.store, library, 'Small');
    const added = after.updateList.filter((u) => kbs.includes(u.kb)).length;
    expect(added).toBeGreaterThan(0);
    expect(add.out).toBe(`Added ${added} update(s) to "Small"; it holds ${after.updates}.\n`);
    const remove = await run(['group', 'remove', 'Small', kbs[0], ...data]);
    expect(remove.code, remove.err).toBe(0);
    expect((await updateGroupDetail(site.store, library, 'Small')).updateList.some((u) => u.kb === kbs[0])).toBe(false);
    const deadline = await run(['group', 'deadline', 'Small', '2030-06-01T12:00+02:00', ...data]);
    expect(deadline.out).toBe('"Small": deadline 2030-06-01T10:00:00.000Z.\n');
    expect((await run(['group', 'deadline', 'Small', 'none', ...data])).out).toBe('"Small": no deadline.\n');
    expect((await run(['group', 'delete', 'small', ...data])).out).toBe('Deleted "small".\n');
    expect(await site.store.updateGroup('Small')).toBeUndefined();
  }, 120_000);

  it.each([
    [['group', 'create', 'X'], /^patchscan: BAD_ARGUMENT: a group needs at least one criterion: --kb, --released-after/],
    [
      ['group', 'create', 'X', '--kb', '1', '--deadline', '2026-12-01T10:00'],
      /^patchscan: BAD_ARGUMENT: --deadline "2026-12-01T10:00": give a day \(YYYY-MM-DD, 00:00 UTC\) or a time with its zone/,
    ],
    [
      ['group', 'create', 'X', '--released-after', '2026-02-30'],
      /^patchscan: BAD_ARGUMENT: --released-after "2026-02-30": give a day as YYYY-MM-DD/,
    ],
    [
      ['group', 'create', 'X', '--classification', 'Security Update'],
      /^patchscan: BAD_ARGUMENT: no classification "Security Update" in the catalog in service; it has: .*Security Updates/,
    ],
    [['group', 'create', 'X', '--kb', 'KB999999999'], /^patchscan: NOT_FOUND: no update "KB999999999" in the catalog in service/],
    [['group', 'create', 'Patch TUESDAY', '--kb', '1'], /^patchscan: BAD_ARGUMENT: an update group named "Patch Tuesday" exists already/],
    [['group', 'create', ' X', '--kb', '1'], /^patchscan: BAD_ARGUMENT: group name " X": give 1 to 100 characters/],
    [['group', 'show', 'Nope'], /^patchscan: NOT_FOUND: no update group named "Nope" \(patchscan group list\)/],
    [
      ['group', 'computers', 'Patch Tuesday', '--state', 'bad'],
      /^patchscan: BAD_ARGUMENT: --state "bad": give one of Compliant, NonCompliant, Unknown/,
    ],
    [['group', 'computers', 'Patch Tuesday', '--collection', 'Nope'], /^patchscan: NOT_FOUND: no collection named "Nope"/],
    [['group', 'computer', 'Patch Tuesday', 'NO-SUCH-PC'], /^patchscan: NOT_FOUND: no computer named NO-SUCH-PC/],
    [['group', 'remove', 'Patch Tuesday', 'KB999999999'], /^patchscan: NOT_FOUND: "Patch Tuesday" holds no update "KB999999999"/],
    [['group', 'deadline', 'Patch Tuesday', 'soon'], /^patchscan: BAD_ARGUMENT: <when> "soon"/],
    [['group', 'delete', 'Nope'], /^patchscan: NOT_FOUND: no update group named "Nope"/],
  ])(
    'patchscan %j: one line, exit 2, nothing changed',
    async (args, message) => {
      const before = await site.store.updateGroups();
      const r = await run([...args, ...data]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.out).toBe('');
      expect(await site.store.updateGroups()).toEqual(before);
    },
    60_000,
  );
});
