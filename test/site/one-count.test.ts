/**
 * One count everywhere (issue 13, item 1): for the same machine, KB, CVE, collection and fleet, the CLI (a real
 * process), HTTP (a real server on loopback) and the batch summary of `patchscan scan` give the same numbers — and
 * they are the numbers the engine's own scan of each inventory gives under the counting rule
 * (engine/scanner/counting.ts), computed here without the store or the reports. The console's pages (signed in, their
 * numbers and CSV downloads) are checked against the same helpers and against HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { members } from '../../adapters/site/targeting.js';
import {
  ADMIN_TOKEN,
  asStateCounts,
  cliJson,
  cliText,
  expectedFleet,
  expectedMachine,
  expectedMachines,
  httpJson,
  multiUpdateKb,
  oneCountSite,
  type OneCountSite,
} from '../helpers/one-count.js';

describe('one count: CLI, HTTP, batch summary and the engine agree', () => {
  let s: OneCountSite;
  beforeAll(async () => {
    s = await oneCountSite(24);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it(
    'every machine: HTTP compliance counts are the engine rows counted by the rule; ' +
      'superseded Required rows are hidden, and listed on request',
    async () => {
      for (const name of s.inventories.keys()) {
        const want = expectedMachine(s, name);
        const c = (await httpJson(s, `/v1/computers/${name}/compliance`)).body;
        expect({ ...c.counts, NotApplicable: undefined }, name).toEqual({ ...asStateCounts(want), NotApplicable: undefined });
        expect(c.hidden, name).toBe(want.superseded);
        expect(c.updates.length, name).toBe(want.installed + want.required + want.possiblySuperseded + want.unknown);
        const all = (await httpJson(s, `/v1/computers/${name}/compliance?superseded=show`)).body;
        expect(all.updates.length, name).toBe(s.rows.get(name)!.length);
      }
      // The fleet has Required updates that are superseded (else hiding them would be vacuous here).
      expect(expectedFleet(s).superseded).toBeGreaterThan(0);
    },
  );

  it('a state filter hides only the superseded Required updates it would list (no other state counts as hidden)', async () => {
    const name = [...s.inventories.keys()].sort((a, b) => expectedMachine(s, b).superseded - expectedMachine(s, a).superseded)[0];
    const want = expectedMachine(s, name);
    expect(want.superseded).toBeGreaterThan(0);
    const cases = [
      ['Required', want.superseded, want.required + want.possiblySuperseded],
      ['Installed', 0, want.installed],
      ['Unknown', 0, want.unknown],
    ] as const;
    for (const [state, hidden, listed] of cases) {
      const c = (await httpJson(s, `/v1/computers/${name}/compliance?state=${state}`)).body;
      expect({ state, hidden: c.hidden, listed: c.updates.length }).toEqual({ state, hidden, listed });
      const shown = (await httpJson(s, `/v1/computers/${name}/compliance?state=${state}&superseded=show`)).body;
      expect({ state, hidden: shown.hidden }).toEqual({ state, hidden: 0 });
    }
    // The CLI's note says the same: none under a filter that lists no Required update.
    const text = (state: string): string => {
      const r = cliText(s, ['report', 'computer', name, '--state', state]);
      expect(r.code, r.err).toBe(0);
      return r.out;
    };
    expect(text('Required')).toContain(`${want.superseded} superseded Required update(s) not listed`);
    expect(text('Installed')).not.toContain('not listed');
  });

  it('one machine: report computer, compliance (CLI processes) and HTTP give the same counts', async () => {
    const name = [...s.inventories.keys()].sort((a, b) => expectedMachine(s, b).superseded - expectedMachine(s, a).superseded)[0];
    const want = asStateCounts(expectedMachine(s, name));
    const http = (await httpJson(s, `/v1/computers/${name}/compliance`)).body;
    const report = cliJson(s, ['report', 'computer', name]);
    const compliance = cliJson(s, ['compliance', name]);
    for (const got of [http.counts, report.counts, compliance.counts]) expect(got).toMatchObject(want);
    expect(report.updates).toEqual(http.updates);
    expect(cliJson(s, ['report', 'computer', name, '--superseded']).updates.length).toBe(s.rows.get(name)!.length);
    const text = cliText(s, ['compliance', name]).out;
    expect(text).toContain(
      `Required ${want.Required}, Installed ${want.Installed}, Unknown ${want.Unknown}` +
        `; Required but superseded ${want.superseded}, possibly superseded ` +
        `${want.possiblySuperseded}`,
    );
    if (want.superseded > 0)
      expect(text).toContain(`${want.superseded} superseded Required update(s) not listed (--superseded lists them)`);
  });

  it('one KB with an update per architecture: every update of the KB is counted, the same in the CLI and HTTP', async () => {
    const { kb, updateIds } = multiUpdateKb(s);
    const want = asStateCounts(expectedMachines(s, updateIds));
    const http = (await httpJson(s, `/v1/updates/KB${kb}`)).body;
    const cli = cliJson(s, ['report', 'update', `KB${kb}`]);
    expect(new Set(http.updates.map((u: { updateId: string }) => u.updateId))).toEqual(updateIds);
    for (const got of [http.counts, cli.counts]) expect(got).toMatchObject(want);
    expect(cli.updates).toEqual(http.updates);
    // Per update: each one's own machines, by the rule.
    for (const u of http.updates as { updateId: string; counts: Record<string, number> }[])
      expect(u.counts).toMatchObject(asStateCounts(expectedMachines(s, new Set([u.updateId]))));
    // ?state= in any case lists the same rows; an unknown state is a 400 naming the accepted ones.
    const required = await httpJson(s, `/v1/updates/KB${kb}?state=Required`);
    expect((await httpJson(s, `/v1/updates/KB${kb}?state=rEQUIRED`)).body.machines).toEqual(required.body.machines);
    expect(required.body.machines.total).toBe(cliJson(s, ['report', 'update', `KB${kb}`, '--state', 'required']).machines.total);
    const bad = await httpJson(s, `/v1/updates/KB${kb}?state=Missing`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('query parameter state="Missing": give one of Installed, Required, NotApplicable, Unknown');
  });

  it('one CVE: machines exposed, possibly exposed, unknown and not exposed, the same in the CLI and HTTP', async () => {
    // A CVE fixed by an update some machine needs.
    const needed = [...s.rows.values()]
      .flat()
      .find((r) => r.state === 'Required' && !r.superseded && !r.possiblySuperseded && r.cves.length > 0)!;
    const cve = needed.cves[0];
    const fixing = new Set<string>();
    for (let i = 0; i < s.catalog.size; i++)
      if (s.catalog.isReportable(i) && s.catalog.cves(i).includes(cve)) fixing.add(s.catalog.updateId(i));
    const m = expectedMachines(s, fixing);
    const want = {
      exposed: m.required,
      possiblyExposed: m.possiblySuperseded,
      unknown: m.unknown,
      notExposed: s.rows.size - m.required - m.possiblySuperseded - m.unknown,
      scanned: s.rows.size,
    };
    expect(want.exposed).toBeGreaterThan(0);
    const http = (await httpJson(s, `/v1/cves/${cve.toLowerCase()}`)).body;
    const cli = cliJson(s, ['report', 'cve', cve]);
    for (const got of [http, cli]) expect(got).toMatchObject({ cve, ...want });
    expect(new Set(http.updates.map((u: { updateId: string }) => u.updateId))).toEqual(fixing);
    expect((await httpJson(s, '/v1/cves/not-a-cve')).status).toBe(400);
    expect((await httpJson(s, `/v1/cves?q=${cve.slice(4).toLowerCase()}`)).body.items.map((r: { cve: string }) => r.cve)).toContain(cve);
  });

  it('the fleet: compliance (CLI), /v1/summary and the batch summary of patchscan scan count the same', async () => {
    const want = expectedFleet(s);
    const states = {
      Installed: want.installed,
      Required: want.required,
      Unknown: want.unknown,
      superseded: want.superseded,
      possiblySuperseded: want.possiblySuperseded,
    };
    for (const got of [(await httpJson(s, '/v1/summary')).body, cliJson(s, ['compliance'])])
      expect(got).toMatchObject({ scanned: want.scanned, compliant: want.compliant, states });
    const fleet = join(s.dir, 'fleet.jsonl');
    writeFileSync(fleet, [...s.inventories.values()].map((i) => JSON.stringify(i)).join('\n'));
    const catalogPath = (await s.site.store.currentCatalog())!.path;
    const batch = cliText(
      s,
      ['scan', '--catalog', catalogPath, '--inventories', fleet, '--out', join(s.dir, 'rows.jsonl'), '--threads', '1'],
      false,
    );
    expect(batch.code, batch.err).toBe(0);
    expect(batch.out).toContain(
      `Updates: Required ${want.required.toLocaleString('en-US')}, Installed ` +
        `${want.installed.toLocaleString('en-US')}, Unknown ` +
        `${want.unknown.toLocaleString('en-US')}; ` +
        `Required but superseded ${want.superseded.toLocaleString('en-US')}, possibly ` +
        `superseded ${want.possiblySuperseded.toLocaleString('en-US')}`,
    );
  });

  it('collections: collection list, report collections and HTTP count members the same, by the one membership rule', async () => {
    const http = (await httpJson(s, '/v1/reports/collections')).body as {
      name: string;
      members: number;
      enrolled: number;
      scanned: number;
      compliant: number;
      required: number;
    }[];
    expect(cliJson(s, ['report', 'collections'])).toEqual(http);
    const list = cliText(s, ['collection', 'list']).out;
    for (const row of http) {
      const id = (await s.site.store.collectionByName(row.name))!.id;
      expect(row.members, row.name).toBe((await members(s.site.store, id)).length);
      expect(list, row.name).toMatch(
        new RegExp(`^${row.name.replace(/[()]/g, '\\$&')} +${row.members} member\\(s\\), ${row.enrolled} enrolled`, 'm'),
      );
    }
    const main = http.find((r) => r.name === 'Microsoft Updates Tool')!;
    const fleet = expectedFleet(s);
    expect(main).toMatchObject({ enrolled: s.rows.size, scanned: s.rows.size, compliant: fleet.compliant, required: fleet.required });
    expect(main.members).toBeGreaterThanOrEqual(main.enrolled);
  });

  describe('the web console shows the same numbers', () => {
    /**
     * A request, sent again once if the connection was reset: fetch reuses a kept-alive connection the server has
     * just closed for idleness (its keep-alive timeout passes while the CLI processes above run), a transport race
     * that says nothing about the console.
     */
    const afresh = async (send: () => Promise<Response>): Promise<Response> => {
      try {
        return await send();
      } catch (e) {
        if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
        return send();
      }
    };
    let cookie = '';
    /** A console page (or its CSV) fetched with a signed-in session, as the browser does. */
    const page = async (path: string): Promise<string> => {
      if (!cookie) {
        const body = new URLSearchParams({ token: ADMIN_TOKEN });
        const r = await afresh(() => fetch(`${s.url}/login`, { method: 'POST', body, redirect: 'manual' }));
        cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
      }
      const r = await afresh(() => fetch(`${s.url}${path}`, { headers: { cookie }, redirect: 'manual' }));
      expect(r.status, path).toBe(200);
      return r.text();
    };
    /** The number a page shows in the element with this data-testid. */
    const shown = (html: string, testId: string): number => {
      const m = new RegExp(`data-testid="${testId}">([\\d,]+)<`).exec(html);
      if (!m) throw new Error(`no number with data-testid=${testId}`);
      return Number(m[1].replace(/,/g, ''));
    };
    const csvRows = (text: string): Record<string, string>[] => {
      const [head, ...lines] = text.trim().split('\r\n');
      const keys = head.split(',');
      return lines.map((l) => Object.fromEntries(l.split(',').map((v, k) => [keys[k], v])));
    };

    it('every machine: the computer page counts as HTTP and the engine do', async () => {
      for (const name of s.inventories.keys()) {
        const want = asStateCounts(expectedMachine(s, name));
        const html = await page(`/computers/${name}`);
        const got = {
          Installed: shown(html, 'count-Installed'),
          Required: shown(html, 'count-Required'),
          Unknown: shown(html, 'count-Unknown'),
          superseded: shown(html, 'count-superseded'),
          possiblySuperseded: shown(html, 'count-possiblySuperseded'),
        };
        expect(got, name).toEqual(want);
        expect((await httpJson(s, `/v1/computers/${name}/compliance`)).body.counts, name).toMatchObject(got);
      }
    });

    it('one KB with an update per architecture: the update page counts every update of it, machines once', async () => {
      const { kb, updateIds } = multiUpdateKb(s);
      const html = await page(`/updates/KB${kb}`);
      const want = asStateCounts(expectedMachines(s, updateIds));
      expect({
        Required: shown(html, 'update-Required'),
        Installed: shown(html, 'update-Installed'),
        Unknown: shown(html, 'update-Unknown'),
        superseded: shown(html, 'update-superseded'),
        possiblySuperseded: shown(html, 'update-possiblySuperseded'),
      }).toEqual(want);
      expect((await httpJson(s, `/v1/updates/KB${kb}`)).body.counts).toMatchObject(want);
      const perUpdate = csvRows(await page(`/updates/KB${kb}?format=csv&list=kb-updates`));
      expect(new Set(perUpdate.map((r) => r.updateId))).toEqual(updateIds);
      for (const r of perUpdate) {
        const w = asStateCounts(expectedMachines(s, new Set([r.updateId])));
        const keys = ['Required', 'Installed', 'Unknown', 'superseded', 'possiblySuperseded'];
        expect(Object.fromEntries(keys.map((k) => [k, Number(r[k])])), r.updateId).toEqual(w);
      }
    });

    it("one CVE: the CVE page's exposed, possibly exposed, unknown and not exposed are HTTP's and the engine's", async () => {
      const needed = [...s.rows.values()]
        .flat()
        .find((r) => r.state === 'Required' && !r.superseded && !r.possiblySuperseded && r.cves.length > 0)!;
      const cve = needed.cves[0];
      const http = (await httpJson(s, `/v1/cves/${cve}`)).body;
      const html = await page(`/cves/${cve}`);
      const got = {
        exposed: shown(html, 'cve-exposed'),
        possiblyExposed: shown(html, 'cve-possibly'),
        unknown: shown(html, 'cve-unknown'),
        notExposed: shown(html, 'cve-not-exposed'),
        scanned: shown(html, 'cve-scanned'),
      };
      expect(http).toMatchObject(got);
      const fixing = new Set<string>();
      for (let i = 0; i < s.catalog.size; i++) {
        if (s.catalog.isReportable(i) && s.catalog.cves(i).includes(cve)) fixing.add(s.catalog.updateId(i));
      }
      expect(got.exposed).toBe(expectedMachines(s, fixing).required);
    });

    it('the fleet and the collections: the overview counts as /v1/summary, /v1/reports/collections and the engine', async () => {
      const want = expectedFleet(s);
      const html = await page('/');
      const kpis = ['scanned', 'compliant', 'required', 'unknown'] as const;
      expect(kpis.map((k) => shown(html, `kpi-${k}`))).toEqual(kpis.map((k) => want[k]));
      type Row = { name: string; members: number; scanned: number; compliant: number; required: number };
      const http = (await httpJson(s, '/v1/reports/collections')).body as Row[];
      const shownCollections = csvRows(await page('/?format=csv&list=collections'));
      expect(shownCollections.length).toBe(http.length);
      for (const row of http) {
        const c = shownCollections.find((r) => r.name === row.name)!;
        const got = [c.members, c.scanned, c.compliant, c.required].map(Number);
        expect(got, row.name).toEqual([row.members, row.scanned, row.compliant, row.required]);
      }
      // A collection's own page: the same figures, and as many members listed.
      const main = http.find((r) => r.name === 'Microsoft Updates Tool')!;
      const col = await page(`/collections/${encodeURIComponent(main.name)}`);
      const figures = [shown(col, 'collection-members'), shown(col, 'collection-scanned'), shown(col, 'collection-required')];
      expect(figures).toEqual([main.members, main.scanned, main.required]);
      expect(csvRows(await page(`/collections/${encodeURIComponent(main.name)}?format=csv&list=members`)).length).toBe(main.members);
    });
  });
});
