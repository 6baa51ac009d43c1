/**
 * Software update groups on a real site (SQLite, the bundled catalog, a scanned fleet): each group's compliance per
 * computer and per collection is checked against a small reference computed from each computer's own compliance
 * report (the counting rule: missing = Required and not superseded); the deadline marks exactly the non-compliant
 * machines overdue once it has passed; then the same through the HTTP routes on a real loopback server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { CatalogVersions, computerCompliance } from '../../adapters/site/reports.js';
import type { Site } from '../../adapters/site/site.js';
import { members } from '../../adapters/site/targeting.js';
import {
  addToGroup,
  createUpdateGroup,
  criteriaFrom,
  groupComputer,
  groupComputers,
  listUpdateGroups,
  parseDeadline,
  removeFromGroup,
  resolveCriteria,
  setGroupDeadline,
  updateGroupDetail,
  type GroupState,
} from '../../adapters/site/update-groups.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN = 'psa_groups-test-admin';

interface Row {
  updateId: string;
  state: string;
  superseded: boolean;
  possiblySuperseded: boolean;
  kb: string;
}

/** The reference: a computer's group state straight from its compliance report (missing: Required, not superseded or possibly). */
function referenceState(
  rows: readonly Row[] | undefined,
  ids: ReadonlySet<string>,
): { state: GroupState; missing: number; unknown: number } {
  if (!rows) return { state: 'Unknown', missing: 0, unknown: ids.size };
  const mine = rows.filter((r) => ids.has(r.updateId));
  const missing = new Set(mine.filter((r) => r.state === 'Required' && !r.superseded && !r.possiblySuperseded).map((r) => r.updateId)).size;
  const notKnown = mine.filter((r) => r.state === 'Unknown' || (r.state === 'Required' && r.possiblySuperseded));
  const unknown = new Set(notKnown.map((r) => r.updateId)).size;
  return { state: missing > 0 ? 'NonCompliant' : unknown > 0 ? 'Unknown' : 'Compliant', missing, unknown };
}

describe('update groups', () => {
  const dir = tempDir();
  let site: Site;
  let catalog: Catalog;
  let catalogs: CatalogVersions;
  const reports = new Map<string, Row[] | undefined>();

  beforeAll(async () => {
    ({ site, catalog } = await scannedSite(dir, { clients: 24, admin: ADMIN, unscanned: ['PC-NEVER'] }));
    catalogs = new CatalogVersions(site.store, site.catalogsDir);
    for (const c of await site.store.clients())
      reports.set(
        c.name,
        (await computerCompliance(site.store, catalogs, c.name, { superseded: 'show' }))?.updates.map((u) => ({ ...u })),
      );
  }, 180_000);
  afterAll(async () => {
    await site.close();
  });

  /** KBs by what they are on the fleet: some Required somewhere, some only Installed. */
  const kbsWhere = (pred: (r: Row) => boolean): string[] =>
    [...new Set([...reports.values()].flatMap((rows) => (rows ?? []).filter((r) => r.kb && pred(r)).map((r) => r.kb)))].sort();

  async function checkAgainstReference(name: string): Promise<void> {
    const detail = await updateGroupDetail(site.store, catalogs, name);
    const ids = new Set(detail.updateList.map((u) => u.updateId));
    expect(ids.size).toBe(detail.updates);
    const all = await groupComputers(site.store, catalogs, name, { limit: 1000 });
    expect(all.total).toBe(reports.size);
    for (const c of all.items) {
      const ref = referenceState(reports.get(c.computer), ids);
      expect({ computer: c.computer, state: c.state, missing: c.missing }).toEqual({
        computer: c.computer,
        state: ref.state,
        missing: ref.missing,
      });
      expect(c.unknown + c.possiblySuperseded).toBeGreaterThanOrEqual(ref.unknown);
      expect(c.missing + c.superseded + c.possiblySuperseded + c.installed + c.notApplicable + c.unknown).toBe(ids.size);
      expect(c.overdue).toBe(detail.pastDeadline && c.state === 'NonCompliant');
    }
    const states = new Map(all.items.map((c) => [c.computer, c.state]));
    const cols = await site.store.collections();
    for (const col of cols) {
      const names = await members(site.store, col.id);
      const row = detail.collections.find((r) => r.collection === col.name)!;
      const st = names.map((n) => states.get(n) ?? 'Unknown');
      expect(row).toMatchObject({
        members: names.length,
        compliant: st.filter((s) => s === 'Compliant').length,
        nonCompliant: st.filter((s) => s === 'NonCompliant').length,
        unknown: st.filter((s) => s === 'Unknown').length,
      });
      expect(row.overdue).toBe(detail.pastDeadline ? row.nonCompliant : 0);
      const page = await groupComputers(site.store, catalogs, name, { collection: col.name, limit: 1000 });
      expect(page.items.map((c) => c.computer)).toEqual(names);
    }
    expect(detail.fleet.members).toBe(reports.size);
    expect(detail.fleet.compliant + detail.fleet.nonCompliant + detail.fleet.unknown).toBe(reports.size);
  }

  it("a group of KBs holds every reportable update of each KB, and its compliance matches each computer's own report", async () => {
    const required = kbsWhere((r) => r.state === 'Required' && !r.superseded && !r.possiblySuperseded).slice(0, 3);
    const installed = kbsWhere((r) => r.state === 'Installed')
      .filter((k) => !required.includes(k))
      .slice(0, 2);
    expect(required.length).toBeGreaterThan(0);
    const kbs = [...required, ...installed];
    const g = await createUpdateGroup(site.store, catalogs, 'By KB', criteriaFrom({ kbs: kbs.map((k) => `KB${k}`) }), null);
    const expected = kbs.flatMap((k) =>
      catalog
        .findByKb(k)
        .filter((i) => catalog.isReportable(i))
        .map((i) => catalog.updateId(i)),
    );
    expect(g.updates).toBe(new Set(expected).size);
    expect((await updateGroupDetail(site.store, catalogs, 'by kb')).updateList.map((u) => u.updateId).sort()).toEqual(
      [...new Set(expected)].sort(),
    );
    await checkAgainstReference('By KB');
    const detail = await updateGroupDetail(site.store, catalogs, 'By KB');
    expect(detail.fleet.nonCompliant).toBeGreaterThan(0); // a KB Required somewhere makes someone non-compliant
    expect(detail.collections.find((c) => c.collection === 'Microsoft Updates Tool')!.unknown).toBeGreaterThanOrEqual(1); // PC-NEVER
  });

  it('a group by classification and by product: every matching update of the catalog, compliance per computer and collection', async () => {
    const g = await createUpdateGroup(site.store, catalogs, 'Security', criteriaFrom({ classifications: ['security updates'] }), null);
    let n = 0;
    for (let i = 0; i < catalog.size; i++) if (catalog.isReportable(i) && catalog.classification(i) === 'Security Updates') n++;
    expect(g.updates).toBe(n);
    await checkAgainstReference('Security');
    const reportable = [...Array(catalog.size).keys()].filter((i) => catalog.isReportable(i));
    const product = catalog.products(reportable.find((i) => catalog.products(i).length > 0)!)[0];
    const p = await createUpdateGroup(
      site.store,
      catalogs,
      'One product',
      criteriaFrom({ products: [product.toUpperCase()], classifications: ['Security Updates'] }),
      null,
    );
    let m = 0;
    for (const i of reportable) if (catalog.classification(i) === 'Security Updates' && catalog.products(i).includes(product)) m++;
    expect(p.updates).toBe(m);
    expect(p.criteria).toEqual({ classifications: ['Security Updates'], products: [product.toUpperCase()] });
    await checkAgainstReference('One product');
  });

  it('a deadline that has passed makes exactly the non-compliant computers overdue; one to come, none', async () => {
    await setGroupDeadline(site.store, 'Security', parseDeadline('--deadline', '2020-01-01'));
    await checkAgainstReference('Security');
    const d = await updateGroupDetail(site.store, catalogs, 'Security');
    expect(d.pastDeadline).toBe(true);
    expect(d.fleet.overdue).toBe(d.fleet.nonCompliant);
    expect(d.fleet.overdue).toBeGreaterThan(0);
    const overdue = await groupComputers(site.store, catalogs, 'Security', { overdue: true, limit: 1000 });
    expect(overdue.total).toBe(d.fleet.nonCompliant);
    expect(overdue.items.every((c) => c.state === 'NonCompliant' && c.missing > 0)).toBe(true);
    await setGroupDeadline(site.store, 'Security', parseDeadline('--deadline', '2999-12-31T18:00+01:00'));
    const later = await updateGroupDetail(site.store, catalogs, 'Security');
    expect(later.deadline).toBe('2999-12-31T17:00:00.000Z');
    expect([later.pastDeadline, later.fleet.overdue]).toEqual([false, 0]);
    expect((await listUpdateGroups(site.store, catalogs)).map((x) => [x.name, x.fleet.members])).toEqual([
      ['By KB', 25],
      ['One product', 25],
      ['Security', 25],
    ]);
  });

  it("one computer against a group: each update's state agrees with its compliance report", async () => {
    const noncompliant = (await groupComputers(site.store, catalogs, 'Security', { state: 'NonCompliant', limit: 1 })).items[0];
    const c = await groupComputer(site.store, catalogs, 'Security', noncompliant.computer.toLowerCase());
    const rows = new Map((reports.get(noncompliant.computer) ?? []).map((r) => [r.updateId, r]));
    for (const u of c.updates) {
      const r = rows.get(u.updateId);
      expect([u.updateId, u.state, u.superseded, u.possiblySuperseded]).toEqual([
        u.updateId,
        r ? r.state : 'NotApplicable',
        r ? r.superseded : false,
        r ? r.possiblySuperseded : false,
      ]);
      expect(u.missing).toBe(u.state === 'Required' && !u.superseded && !u.possiblySuperseded);
    }
    expect(c.updates.filter((u) => u.missing).length).toBe(noncompliant.missing);
    const never = await groupComputer(site.store, catalogs, 'Security', 'PC-NEVER');
    expect(never.state).toBe('Unknown');
    expect(never.updates.every((u) => u.state === 'Unknown')).toBe(true);
    await expect(groupComputer(site.store, catalogs, 'Security', 'NO-SUCH-PC')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('add and remove by KB; refusals name what is wrong', async () => {
    const kb = kbsWhere(() => true).find((k) => !catalog.findByKb(k).some((i) => catalog.classification(i) === 'Security Updates'));
    const before = (await updateGroupDetail(site.store, catalogs, 'Security')).updates;
    if (kb) {
      const r = await addToGroup(site.store, catalogs, 'Security', [`kb${kb}`]);
      expect(r.added).toBe(catalog.findByKb(kb).filter((i) => catalog.isReportable(i)).length);
      expect((await removeFromGroup(site.store, 'Security', [kb])).updates).toBe(before);
    }
    expect(
      (
        await addToGroup(site.store, catalogs, 'Security', [
          (await updateGroupDetail(site.store, catalogs, 'Security')).updateList[0].updateId,
        ])
      ).added,
    ).toBe(0);
    await expect(addToGroup(site.store, catalogs, 'Security', ['KB999999999'])).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('KB999999999'),
    });
    await expect(removeFromGroup(site.store, 'Security', ['KB999999999'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(createUpdateGroup(site.store, catalogs, 'security', criteriaFrom({ kbs: ['1'] }), null)).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      details: { group: 'exists' },
    });
    await expect(
      createUpdateGroup(site.store, catalogs, 'X', criteriaFrom({ classifications: ['Security Update'] }), null),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('Security Updates') });
    await expect(createUpdateGroup(site.store, catalogs, 'Y', criteriaFrom({ releasedAfter: '2099-01-01' }), null)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(() => criteriaFrom({})).toThrow(/at least one criterion/);
    expect(() => criteriaFrom({ releasedAfter: '2026-12-01', releasedBefore: '2026-12-01' })).toThrow(/window is empty/);
  });

  it.each([
    ['2026-02-30', false],
    ['2026-13-01', false],
    ['26-12-01', false],
    ['2026-12-01T10:00', false],
    ['tomorrow', false],
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T10:00Z', '2026-12-01T10:00:00.000Z'],
    ['2026-12-01T10:00:30-05:00', '2026-12-01T15:00:30.000Z'],
  ])('deadline %s → %s', (raw, want) => {
    if (want === false) expect(() => parseDeadline('--deadline', raw)).toThrow(/--deadline/);
    else expect(parseDeadline('--deadline', raw)).toBe(want);
  });

  it("a release window is [after, before) over each update's release day", () => {
    const reportable = [...Array(catalog.size).keys()].filter((i) => catalog.isReportable(i));
    const dayOf = (i: number): string => catalog.str(catalog.data.updates.creationDate[i]).slice(0, 10);
    const days = [...new Set(reportable.map(dayOf))].filter(Boolean).sort();
    expect(days.length).toBeGreaterThan(0);
    const day = days[0];
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const on = resolveCriteria(catalog, { releasedAfter: day, releasedBefore: next });
    const want = reportable.filter((i) => dayOf(i) === day);
    expect(on.length).toBe(want.length);
    expect(resolveCriteria(catalog, { releasedBefore: day })).toEqual([]);
    const fromNext = reportable.filter((i) => dayOf(i) !== '' && dayOf(i) >= next);
    expect(resolveCriteria(catalog, { releasedAfter: next }).length).toBe(fromNext.length);
  });

  describe('over HTTP', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await serve(site, { listen: '127.0.0.1:0', scheduledSync: false });
    });
    afterAll(async () => {
      await server.close();
    });
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      token: string | null = ADMIN,
    ): Promise<{ status: number; body: any; type: string }> => {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      const type = r.headers.get('content-type') ?? '';
      return { status: r.status, body: type.startsWith('application/json') ? JSON.parse(text) : text, type };
    };

    it('needs the admin token', async () => {
      for (const [m, p] of [
        ['GET', '/v1/groups'],
        ['POST', '/v1/groups'],
        ['GET', '/v1/groups/Security'],
        ['DELETE', '/v1/groups/Security'],
      ] as const) {
        expect((await call(m, p, undefined, null)).status).toBe(401);
        expect((await call(m, p, undefined, 'psa_wrong')).status).toBe(401);
      }
      expect((await call('GET', '/v1/groups/Security')).status).toBe(200); // still there
    });

    it("create, read, change, list, delete — the numbers are the library's", async () => {
      const kb = (await updateGroupDetail(site.store, catalogs, 'By KB')).updateList[0].kb;
      const made = await call('POST', '/v1/groups', { name: 'Via HTTP', kbs: [kb], deadline: '2020-06-01' });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ name: 'Via HTTP', deadline: '2020-06-01T00:00:00.000Z', pastDeadline: true });
      const detail = await call('GET', `/v1/groups/${encodeURIComponent('via http')}`);
      expect(detail.status).toBe(200);
      expect(detail.body).toEqual(JSON.parse(JSON.stringify(await updateGroupDetail(site.store, catalogs, 'Via HTTP'))));
      const computers = await call('GET', '/v1/groups/Via%20HTTP/computers?state=noncompliant&limit=1000');
      expect(computers.body).toEqual(
        JSON.parse(JSON.stringify(await groupComputers(site.store, catalogs, 'Via HTTP', { state: 'NonCompliant', limit: 1000 }))),
      );
      const overdue = await call('GET', '/v1/groups/Via%20HTTP/computers?overdue=1&collection=Microsoft%20Updates%20Tool');
      const main = detail.body.collections.find((c: { collection: string }) => c.collection === 'Microsoft Updates Tool');
      expect(overdue.body.total).toBe(main.overdue);
      const csv = await call('GET', '/v1/groups/Via%20HTTP/computers?format=csv');
      expect(csv.type).toMatch(/^text\/csv/);
      expect(csv.body.split('\r\n')[0].split(',')).toEqual([
        'computer',
        'architecture',
        'scannedAt',
        'state',
        'missing',
        'superseded',
        'possiblySuperseded',
        'installed',
        'notApplicable',
        'unknown',
        'overdue',
      ]);
      const one = await call('GET', `/v1/groups/Via%20HTTP/computers/${computers.body.items[0]?.computer ?? 'PC-0000'}`);
      expect(one.status).toBe(200);
      expect(one.body.updates.length).toBe(detail.body.updates);
      const patched = await call('PATCH', '/v1/groups/Via%20HTTP', { deadline: null });
      expect(patched.body).toMatchObject({ deadline: null, pastDeadline: false });
      const other = (await updateGroupDetail(site.store, catalogs, 'By KB')).updateList.find((u) => u.kb && u.kb !== kb)!.kb;
      const changed = await call('POST', '/v1/groups/Via%20HTTP/updates', { add: [`KB${other}`], remove: [kb] });
      expect(changed.status).toBe(200);
      expect(changed.body.updates).toBe(catalog.findByKb(other).filter((i) => catalog.isReportable(i)).length);
      const list = await call('GET', '/v1/groups');
      expect(list.body.map((g: { name: string }) => g.name)).toContain('Via HTTP');
      expect((await call('DELETE', '/v1/groups/Via%20HTTP')).status).toBe(204);
      expect((await call('GET', '/v1/groups/Via%20HTTP')).status).toBe(404);
    });

    it.each([
      ['POST', '/v1/groups', { name: 'Security', kbs: ['1'] }, 409],
      ['POST', '/v1/groups', { kbs: ['1'] }, 400],
      ['POST', '/v1/groups', { name: 'Z' }, 400],
      ['POST', '/v1/groups', { name: 'Z', kbs: 5 }, 400],
      ['POST', '/v1/groups', { name: 'Z', kbs: ['KB999999999'] }, 404],
      ['POST', '/v1/groups', { name: 'Z', classifications: ['Nope'] }, 400],
      ['POST', '/v1/groups', { name: 'Z', releasedAfter: '2026-02-30' }, 400],
      ['POST', '/v1/groups', { name: 'Z', kbs: ['1'], deadline: '2026-12-01T10:00' }, 400],
      ['POST', '/v1/groups', 'not json', 400],
      ['POST', '/v1/groups', [1], 400],
      ['PUT', '/v1/groups', {}, 405],
      ['GET', '/v1/groups/Nope', undefined, 404],
      ['GET', '/v1/groups/Security/computers?state=Bad', undefined, 400],
      ['GET', '/v1/groups/Security/computers?collection=Nope', undefined, 404],
      ['GET', '/v1/groups/Security/computers/NO-SUCH-PC', undefined, 404],
      ['GET', '/v1/groups/Security/computers?limit=0', undefined, 400],
      ['PATCH', '/v1/groups/Security', {}, 400],
      ['PATCH', '/v1/groups/Security', { deadline: 'soon' }, 400],
      ['POST', '/v1/groups/Security/updates', { add: ['KB999999999'] }, 404],
      ['GET', '/v1/groups/%E0%A4%A', undefined, 400],
    ])('%s %s %j → %i with a message', async (method, path, body, status) => {
      const before = (await site.store.updateGroups()).map((g) => [g.name, g.updates, g.deadline]);
      const r = await call(method, path, body);
      expect(r.status).toBe(status);
      expect(r.body.error.message.length).toBeGreaterThan(10);
      expect((await site.store.updateGroups()).map((g) => [g.name, g.updates, g.deadline])).toEqual(before); // nothing changed
    });
  });
});
