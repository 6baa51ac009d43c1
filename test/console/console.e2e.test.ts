/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real server seeded
 * with a generated fleet: every page — overview, updates, an update, computers, a computer, a collection, a
 * classification, a product, stale clients, sync — and every number shown is checked against the database file,
 * read with SQL of our own (the counting rule written out: Required = state Required and not superseded). Lists are
 * sorted, paged and downloaded as CSV with the session cookie; sign-out ends the session. Screenshots go to
 * test/.artifacts/console/ (the README's docs/console-overview.png is the overview one).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { osName } from '../../adapters/site/os-name.js';
import { CatalogVersions } from '../../adapters/site/reports.js';
import { createUpdateGroup } from '../../adapters/site/update-groups.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const ARTIFACTS = new URL('../.artifacts/console/', import.meta.url).pathname;
const CHROMIUM =
  process.env.PATCHSCAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';
const ADMIN = 'psa_console-test-token';
const FLEET = 160;
const GROUP = 'Security baseline';
const CLIENTS = FLEET + 2;
/** A raw ISO 8601 time with milliseconds: never shown as text on a page (times are written for people). */
const RAW_ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Parses a CSV body as written by adapters/text/csv.ts (RFC 4180 quoting). */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [],
    cell = '',
    quoted = false;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (quoted) {
      if (ch === '"' && text[k + 1] === '"') ((cell += '"'), k++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(cell), (cell = ''));
    else if (ch === '\r' && text[k + 1] === '\n') (row.push(cell), rows.push(row), (row = []), (cell = ''), k++);
    else cell += ch;
  }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

describe('web console in Chromium', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let browser: Browser;
  let sql: Database.Database;
  const one = <T>(text: string, ...args: unknown[]): T => sql.prepare(text).get(...args) as T;
  const all = <T>(text: string, ...args: unknown[]): T[] => sql.prepare(text).all(...args) as T[];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
    site = await Site.open(dir);
    // Not mainUnlimited: the main collection is unlimited after the fleet is stored (below).
    expect((await setUpSite(site, { testComputer: 'PC-0000000', syncHost: 'SYNC', admin: ADMIN, sync: true }))?.outcome).toBe('updated');
    // A generated fleet, stored as uploads would store it, then scanned by the site's queue.
    const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
    const packr = new Packr({ useRecords: false });
    await site.store.transaction(async (tx) => {
      for (let k = 0; k < FLEET; k++) {
        const inv = model.machine(21, k);
        await tx.enroll(inv.computer.name);
        const id = (await tx.client(inv.computer.name))!.id;
        const arch = { 0: 'x86', 9: 'x64', 6: 'ia64', 12: 'arm64' }[inv.processor?.architecture ?? -1] ?? 'other';
        await tx.addInventory(id, packr.pack(inv), arch, undefined, osName(inv.os));
        await tx.enqueueScan(id, 'normal', 'seed');
      }
    });
    await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
    // Two clients never report: the stale list has them.
    await site.store.enroll('OLD-PC-1');
    await site.store.enroll('OLD-PC-2');
    expect((await new ScanService(site).runQueue()).scanned).toBe(FLEET);
    // An update group whose deadline has passed: its non-compliant machines are overdue.
    const catalogs = new CatalogVersions(site.store, site.catalogsDir);
    await createUpdateGroup(site.store, catalogs, GROUP, { classifications: ['Security Updates'] }, '2026-01-01T00:00:00.000Z');
    // The numbers on the pages are checked against the database file itself, read by a connection of our own.
    sql = new Database(join(dir, DEFAULT_CONFIG.database), { readonly: true });
    server = await serve(site, { scheduledSync: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await site?.close();
    sql?.close();
  });

  /** A signed-in browser context (a missing element fails fast, naming its selector). */
  async function signedIn(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(10_000);
    const page = await ctx.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name=token]', ADMIN);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('form.search button[type=submit]')]);
    return { ctx, page };
  }
  /** Goes to `path` and checks what every page must: no raw ISO time shown, the sign-out form present. */
  async function open(page: Page, path: string): Promise<void> {
    const r = await page.goto(`${server.url}${path}`);
    expect(r?.status(), path).toBe(200);
    expect(await page.innerText('body')).not.toMatch(RAW_ISO);
    expect(await page.locator('form.signout button').count()).toBe(1);
  }
  /** Downloads a list's CSV through its link, as the browser would (session cookie, no token in the URL). */
  async function csvOf(page: Page, list: string): Promise<Record<string, string>[]> {
    const href = (await page.getAttribute(`[data-testid=${list}-csv]`, 'href'))!;
    expect(href).not.toMatch(/token/i);
    const res = await page.request.get(new URL(href, page.url()).toString());
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers()['content-disposition']).toMatch(/^attachment; filename="patchscan-[A-Za-z0-9._-]+\.csv"$/);
    return parseCsv(await res.text());
  }
  /** Every body row of a table, as its cells' text. */
  const cellsOf = (page: Page, table: string): Promise<string[][]> =>
    page
      .locator(`[data-testid=${table}] tbody tr`)
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  const numIn = async (page: Page, sel: string): Promise<number> => Number((await page.textContent(sel))!.replace(/,/g, ''));
  /** The "1–50 of 1,234" of a list (the page's first list when not named). */
  const pagerText = (page: Page, list?: string): Promise<string> =>
    page
      .locator(`${list ? `[data-list=${list}]` : '[data-list]'} .pager .muted`)
      .first()
      .innerText();

  // The counting rule, written out in SQL over the stored outcomes of every client's latest scan.
  const fleetCountsOf = (updateId: string): { required: number; superseded: number; installed: number; unknown: number } =>
    one(
      `SELECT coalesce(sum(r.state = 'Required' AND r.superseded = 0), 0) AS required,
       coalesce(sum(r.state = 'Required' AND r.superseded = 1), 0) AS superseded,
       coalesce(sum(r.state = 'Installed'), 0) AS installed, coalesce(sum(r.state = 'Unknown'), 0) AS unknown
     FROM scans s JOIN result_updates r ON r.set_id = s.set_id WHERE r.update_id = ?`,
      updateId,
    );

  it('the oracle below reads result_updates as every set stored whole: no set of this site is stored on a base', () => {
    // A set carried over to a new catalog is stored as its changes on a base (adapters/site/carried-changes.ts); the
    // SQL above and below reads a set's own rows only, which is all of it while this holds.
    expect(one<{ n: number }>('SELECT count(*) AS n FROM result_sets WHERE base_set_id IS NOT NULL').n).toBe(0);
    expect(one<{ n: number }>('SELECT count(*) AS n FROM result_sets').n).toBeGreaterThan(0);
  });

  it("asks for the admin token, refuses a wrong one, then shows the fleet overview with the database's numbers", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=token]', 'psa_wrong');
    await page.click('button[type=submit]');
    expect(await page.textContent('[data-testid=login-error]')).toBe('That is not the admin token.');
    await page.fill('input[name=token]', ADMIN);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
    expect(await page.innerText('body')).not.toMatch(RAW_ISO);
    const t = one<{ scanned: number; compliant: number; required: number; unknown: number }>(
      `SELECT count(*) AS scanned, sum(r.required = 0) AS compliant, sum(r.required) AS required, sum(r.unknown) AS unknown
       FROM scans s JOIN result_sets r ON r.id = s.set_id`,
    );
    expect(await page.textContent('[data-testid=kpi-clients]')).toBe(String(CLIENTS));
    expect(await page.textContent('[data-testid=kpi-scanned]')).toBe(fmt(t.scanned));
    expect(await page.textContent('[data-testid=kpi-compliant]')).toBe(fmt(t.compliant));
    expect(await page.textContent('[data-testid=kpi-required]')).toBe(fmt(t.required));
    expect(await page.textContent('[data-testid=kpi-unknown]')).toBe(fmt(t.unknown));
    expect(await page.locator('[data-testid=next-step]').count()).toBe(0); // the site is set up: no "what to do next"
    // Classification chart and table: one entry per classification in the results, each with the database's sums.
    const classes = all<{ name: string; installed: number; required: number; unknown: number }>(
      `SELECT g.name, sum(g.installed) AS installed, sum(g.required) AS required, sum(g.unknown) AS unknown
       FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id WHERE g.kind = 'classification' GROUP BY g.name`,
    );
    expect(classes.length).toBeGreaterThan(1);
    expect(await page.locator('[data-testid=classification-chart] text[text-anchor=end]').count()).toBe(classes.length);
    const shown = await cellsOf(page, 'classifications');
    expect(shown.map((r) => r[0]).sort()).toEqual(classes.map((c) => c.name).sort());
    for (const c of classes) {
      expect(shown.find((r) => r[0] === c.name)!.slice(1)).toEqual([fmt(c.installed), fmt(c.required), fmt(c.unknown)]);
    }
    // Sorted by Required, most first (the default), then by name when asked.
    const req = shown.map((r) => Number(r[2].replace(/,/g, '')));
    expect(req).toEqual([...req].sort((a, b) => b - a));
    await page.click('[data-testid=classifications] th >> text=Classification');
    const byName = await page.locator('[data-testid=classifications] tbody tr td:first-child').allTextContents();
    expect(byName).toEqual([...byName].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base', numeric: true })));
    // The trend says something with one day of history: today's numbers in words and in a table, not a lone dot.
    expect(await page.textContent('[data-testid=trend-summary]')).toContain(`(${fmt(t.compliant)} of ${fmt(t.scanned)};`);
    expect(await page.textContent('[data-testid=trend-summary]')).toContain(`${((100 * t.compliant) / t.scanned).toFixed(1)} %`);
    expect(await page.locator('[data-testid=trend-table] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-testid=trend-chart]').count()).toBe(0);
    expect(await page.textContent('[data-testid=collections]')).toContain('Microsoft Updates Tool (pre-production)');
    await page.close();
  });

  it("overview screenshot (the README's docs/console-overview.png)", async () => {
    const { ctx, page } = await signedIn();
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: false });
    await page.screenshot({ path: join(ARTIFACTS, 'overview-full.png'), fullPage: true });
    await ctx.close();
  });

  it(
    'updates: every update with its fleet counts (the counting rule), most needed ' +
      'first; filters and search anywhere in KB, title, CVE',
    async () => {
      const { ctx, page } = await signedIn();
      await page.click('header >> text=Updates');
      expect(new URL(page.url()).pathname).toBe('/updates');
      await open(page, '/updates');
      // Every update with an outcome on a scanned machine, and the catalog in service has them all.
      const expected = all<{ update_id: string }>('SELECT DISTINCT r.update_id FROM scans s JOIN result_updates r ON r.set_id = s.set_id');
      expect(await pagerText(page)).toBe(`1–50 of ${fmt(expected.length)}`);
      const rows = await csvOf(page, 'update-list');
      expect(rows.map((r) => r.updateId).sort()).toEqual(expected.map((r) => r.update_id).sort());
      for (const r of rows) {
        const want = fleetCountsOf(r.updateId);
        const got = {
          required: Number(r.required),
          superseded: Number(r.superseded),
          installed: Number(r.installed),
          unknown: Number(r.unknown),
        };
        expect(got, r.updateId).toEqual(want);
      }
      // Most needed first, on the page as in the CSV.
      const required = rows.map((r) => Number(r.required));
      expect(required).toEqual([...required].sort((a, b) => b - a));
      expect(required[0]).toBeGreaterThan(0);
      const firstOnPage = await page.locator('[data-testid=update-list] tbody tr').first().getAttribute('data-update');
      expect(firstOnPage).toBe(rows[0].updateId);
      const firstRow = page.locator('[data-testid=update-list] tbody tr').first();
      expect(await firstRow.locator('[data-col=required]').textContent()).toBe(fmt(required[0]));
      await page.screenshot({ path: join(ARTIFACTS, 'updates.png'), fullPage: false });

      // Search anywhere in the text: the middle digits of a KB, a word inside titles, a CVE id.
      const kb = rows.find((r) => r.kb.length >= 6)!.kb;
      await page.fill('input[name=q]', kb.slice(2, 6));
      await page.click('[data-testid=update-filters] button[type=submit]');
      const found = await csvOf(page, 'update-list');
      const text = (r: Record<string, string>): string => `kb${r.kb}\n${r.title}\n${r.cves.split('; ').join('\n')}`.toLowerCase();
      const wantKb = rows.filter((r) => text(r).includes(kb.slice(2, 6).toLowerCase()));
      expect(found.map((r) => r.updateId).sort()).toEqual(wantKb.map((r) => r.updateId).sort());
      expect(found.some((r) => r.kb === kb)).toBe(true);
      const cve = rows.find((r) => r.cves !== '')!.cves.split('; ')[0];
      await open(page, `/updates?q=${encodeURIComponent(cve.toLowerCase())}`);
      const byCve = await csvOf(page, 'update-list');
      expect(byCve.length).toBeGreaterThan(0);
      const fixing = rows.filter((r) => r.cves.split('; ').some((c) => c.toLowerCase().includes(cve.toLowerCase())));
      expect(byCve.map((r) => r.updateId).sort()).toEqual(fixing.map((r) => r.updateId).sort());

      // Filters: a classification, a severity, a state.
      const cls = rows[0].classification;
      await open(page, '/updates');
      await page.selectOption('select[name=classification]', cls);
      await page.selectOption('select[name=state]', 'required');
      await page.click('[data-testid=update-filters] button[type=submit]');
      const filtered = await csvOf(page, 'update-list');
      const inClass = rows.filter((r) => r.classification === cls && Number(r.required) > 0);
      expect(filtered.map((r) => r.updateId).sort()).toEqual(inClass.map((r) => r.updateId).sort());
      const sev = rows.find((r) => r.severity !== '')!.severity;
      await open(page, `/updates?severity=${encodeURIComponent(sev)}`);
      expect((await csvOf(page, 'update-list')).length).toBe(rows.filter((r) => r.severity === sev).length);
      // Sorting by another column, and a filter that matches nothing says what to do.
      await open(page, '/updates?sort=installed&dir=desc');
      const inst = (await page.locator('[data-testid=update-list] [data-col=installed]').allTextContents()).map((s) =>
        Number(s.replace(/,/g, '')),
      );
      expect(inst).toEqual([...inst].sort((a, b) => b - a));
      await open(page, '/updates?q=no-such-update-anywhere');
      expect(await page.textContent('[data-testid=update-list-empty]')).toContain('No update matches these filters');
      await ctx.close();
    },
  );

  it("an update's page: who needs it, who has it, each count the database's", async () => {
    const { ctx, page } = await signedIn();
    await open(page, '/updates');
    const first = page.locator('[data-testid=update-list] tbody tr').first();
    const updateId = (await first.getAttribute('data-update'))!;
    await first.locator('a').first().click();
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/updates/${updateId}`);
    const want = fleetCountsOf(updateId);
    expect(await numIn(page, '[data-testid=update-Required]')).toBe(want.required);
    expect(await numIn(page, '[data-testid=update-Installed]')).toBe(want.installed);
    expect(await numIn(page, '[data-testid=update-Unknown]')).toBe(want.unknown);
    expect(await numIn(page, '[data-testid=update-superseded]')).toBe(want.superseded);
    // Machines listed: all but the Required ones superseded by an update Installed or Required there (counted, not listed).
    const machines = one<{ n: number }>(
      "SELECT count(*) AS n FROM client_update_states WHERE update_id = ? AND NOT (state = 'Required' AND superseded = 1)",
      updateId,
    ).n;
    expect(await pagerText(page, 'machine-list')).toBe(`1–${Math.min(50, machines)} of ${fmt(machines)}`);
    const listed = await csvOf(page, 'machine-list');
    expect(listed.length).toBe(machines);
    const stored = new Map(
      all<{ computer: string; state: string }>('SELECT computer, state FROM client_update_states WHERE update_id = ?', updateId).map(
        (r) => [r.computer, r.state],
      ),
    );
    for (const m of listed) expect(stored.get(m.computer), m.computer).toBe(m.state);
    await page.click('[data-testid=state-filter] >> text=Required');
    const needs = one<{ n: number }>(
      "SELECT count(*) AS n FROM client_update_states WHERE update_id = ? AND state = 'Required' AND superseded <> 1",
      updateId,
    ).n;
    expect(await pagerText(page, 'machine-list')).toBe(`1–${Math.min(50, needs)} of ${fmt(needs)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'update.png'), fullPage: true });

    // A KB published as one update per architecture: every update of it, each with its own counts; machines counted
    // once over all of them (needing any one counts as Required).
    const catalog = new Catalog(readCatalogFile((await site.store.currentCatalog())!.path));
    const withResults = new Set(all<{ update_id: string }>('SELECT DISTINCT update_id FROM client_update_states').map((r) => r.update_id));
    const byKb = new Map<string, Set<string>>();
    for (let i = 0; i < catalog.size; i++) {
      if (!catalog.isReportable(i) || !catalog.kb(i) || !withResults.has(catalog.updateId(i))) continue;
      byKb.set(catalog.kb(i), (byKb.get(catalog.kb(i)) ?? new Set()).add(catalog.updateId(i)));
    }
    const [kb, ids] = [...byKb].find(([, v]) => v.size > 1)!;
    await open(page, `/updates/KB${kb}`);
    const perUpdate = await csvOf(page, 'kb-updates');
    expect(new Set(perUpdate.map((r) => r.updateId))).toEqual(ids);
    for (const r of perUpdate) {
      const w = fleetCountsOf(r.updateId);
      expect([Number(r.Required), Number(r.superseded), Number(r.Installed), Number(r.Unknown)], r.updateId).toEqual([
        w.required,
        w.superseded,
        w.installed,
        w.unknown,
      ]);
    }
    const marks = [...ids].map(() => '?').join(', ');
    const needsAny = one<{ n: number }>(
      `SELECT count(DISTINCT computer) AS n FROM client_update_states WHERE update_id ` +
        `IN (${marks}) AND state = 'Required' AND superseded = 0`,
      ...ids,
    ).n;
    expect(await numIn(page, '[data-testid=update-Required]')).toBe(needsAny);
    await ctx.close();
  });

  it('CVEs: search, then which machines are exposed (an update fixing it is Required), as the database says', async () => {
    const { ctx, page } = await signedIn();
    const catalog = new Catalog(readCatalogFile((await site.store.currentCatalog())!.path));
    // A CVE fixed by an update some machine needs.
    const needed = all<{ update_id: string }>(
      "SELECT DISTINCT update_id FROM client_update_states WHERE state = 'Required' AND superseded = 0",
    ).map((r) => r.update_id);
    const fixes = new Map<string, Set<string>>();
    for (let i = 0; i < catalog.size; i++) {
      if (!catalog.isReportable(i)) continue;
      for (const c of catalog.cves(i)) fixes.set(c, (fixes.get(c) ?? new Set()).add(catalog.updateId(i)));
    }
    const cve = [...fixes].find(([, ids]) => needed.some((u) => ids.has(u)))![0];
    const ids = [...fixes.get(cve)!];
    await page.click('header >> text=CVEs');
    await page.fill('input[name=q]', cve.slice(4).toLowerCase());
    await page.click('form.search button[type=submit]');
    const hits = await csvOf(page, 'cve-list');
    expect(hits.map((h) => h.cve)).toContain(cve);
    for (const h of hits) expect(h.cve.toLowerCase()).toContain(cve.slice(4).toLowerCase());
    await page.click(`[data-testid=cve-list] a >> text="${cve}"`);
    const marks = ids.map(() => '?').join(', ');
    const exposed = one<{ n: number }>(
      `SELECT count(DISTINCT computer) AS n FROM client_update_states WHERE update_id ` +
        `IN (${marks}) AND state = 'Required' AND superseded = 0`,
      ...ids,
    ).n;
    const scanned = one<{ n: number }>('SELECT count(*) AS n FROM scans').n;
    expect(exposed).toBeGreaterThan(0);
    expect(await numIn(page, '[data-testid=cve-exposed]')).toBe(exposed);
    expect(await numIn(page, '[data-testid=cve-scanned]')).toBe(scanned);
    const parts = await Promise.all(['exposed', 'possibly', 'unknown', 'not-exposed'].map((k) => numIn(page, `[data-testid=cve-${k}]`)));
    expect(parts.reduce((a, b) => a + b, 0)).toBe(scanned);
    expect(new Set((await csvOf(page, 'cve-updates')).map((r) => r.updateId))).toEqual(new Set(ids));
    const listed = new Set((await csvOf(page, 'exposed-machines')).map((r) => r.computer));
    const need = all<{ computer: string }>(
      `SELECT DISTINCT computer FROM client_update_states WHERE update_id IN (${marks}) AND state = 'Required' AND superseded = 0`,
      ...ids,
    );
    for (const r of need) expect(listed.has(r.computer), r.computer).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'cve.png'), fullPage: false });
    // The updates search says where to ask the exposure question, and a malformed id is a 400 that says so.
    await open(page, `/updates?q=${encodeURIComponent(cve)}`);
    expect(await page.textContent('[data-testid=cve-hint]')).toContain(cve);
    expect((await page.goto(`${server.url}/cves/not-a-cve`))?.status()).toBe(400);
    await ctx.close();
  });

  it(
    "computers: search, sort by any column, paginate, CSV; a computer's page " + "paginated with reasons folded, numbers the database's",
    async () => {
      const { ctx, page } = await signedIn();
      await page.click('header >> text=Computers');
      expect(await pagerText(page)).toBe(`1–50 of ${CLIENTS}`);
      expect(await page.locator('[data-testid=computer-list] thead th').allTextContents()).toEqual([
        'Computer ▲',
        'Architecture',
        'OS',
        'Last seen (upload)',
        'Scanned',
        'Installed',
        'Required',
        'Unknown',
      ]);
      await page.click('.pager a[rel=next]');
      expect(await pagerText(page)).toBe(`51–100 of ${CLIENTS}`);
      const everyone = await csvOf(page, 'computer-list');
      expect(everyone.length).toBe(CLIENTS);
      expect(Object.keys(everyone[0])).toEqual([
        'name',
        'architecture',
        'os',
        'lastUpload',
        'scannedAt',
        'installed',
        'required',
        'unknown',
      ]);
      // OS and architecture are the database's (the OS as people name it, from the latest inventory).
      const inDb = new Map(
        all<{ name: string; os: string | null; architecture: string | null }>('SELECT name, os, architecture FROM clients').map((r) => [
          r.name,
          r,
        ]),
      );
      for (const c of everyone)
        expect([c.os, c.architecture], c.name).toEqual([inDb.get(c.name)!.os ?? '', inDb.get(c.name)!.architecture ?? '']);
      expect(everyone.filter((c) => /^Windows .*\(\d+\.\d+\.\d+/.test(c.os)).length).toBeGreaterThan(FLEET / 2);
      // Sorted by Required, most first: the first row is the machine with most Required in the database.
      await page.click('[data-testid=computer-list] th >> text=Required');
      const top = one<{ required: number }>(
        'SELECT max(r.required) AS required FROM scans s JOIN result_sets r ON r.id = s.set_id',
      ).required;
      expect(await page.locator('[data-testid=computer-list] tbody tr').first().locator('td').nth(6).textContent()).toBe(fmt(top));
      const reqs = (await page.locator('[data-testid=computer-list] tbody tr td:nth-child(7)').allTextContents()).map((s) =>
        s === '' ? -1 : Number(s.replace(/,/g, '')),
      );
      expect(reqs).toEqual([...reqs].sort((a, b) => b - a));
      await open(page, '/computers');
      await page.fill('input[name=q]', 'pc-000004');
      await page.click('form.search button[type=submit]');
      const links = await page.locator('[data-testid=computer-list] tbody a').allTextContents();
      expect(links).toEqual(Array.from({ length: 10 }, (_, k) => `PC-000004${k}`));
      await page.screenshot({ path: join(ARTIFACTS, 'search.png'), fullPage: true });

      // A computer that needs something, with more updates than one page holds. Its page lists every
      // row but the Required ones superseded by an Installed or Required update (counted, not listed: the counting rule).
      const LISTED =
        "(SELECT count(*) FROM result_updates u WHERE u.set_id = s.set_id AND NOT (u.state = 'Required' AND u.superseded = 1))";
      const target = one<{
        name: string;
      }>(`SELECT c.name FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id
      WHERE r.required > 0 ORDER BY ${LISTED} DESC, c.name`).name;
      await open(page, `/computers/${encodeURIComponent(target)}`);
      expect(await page.textContent('[data-testid=computer-name]')).toBe(target);
      expect(await page.textContent('[data-testid=os]')).toBe(one<{ os: string }>('SELECT os FROM clients WHERE name = ?', target).os);
      const want = one<{ installed: number; required: number; unknown: number; scanned_at: string; rows: number }>(
        `SELECT r.installed, r.required, r.unknown, s.scanned_at, ${LISTED} AS rows
       FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name = ?`,
        target,
      );
      expect(await numIn(page, '[data-testid=count-Installed]')).toBe(want.installed);
      expect(await numIn(page, '[data-testid=count-Required]')).toBe(want.required);
      expect(await numIn(page, '[data-testid=count-Unknown]')).toBe(want.unknown);
      expect(await page.getAttribute('[data-testid=scanned-at] time', 'datetime')).toBe(want.scanned_at);
      expect(await page.innerText('body')).not.toMatch(RAW_ISO);
      expect(want.rows).toBeGreaterThan(50);
      expect(await pagerText(page)).toBe(`1–50 of ${fmt(want.rows)}`);
      expect(await page.locator('[data-testid=update-table] tbody tr').count()).toBe(50);
      // Long reasons are folded: a disclosure per long reason, closed until opened.
      const folded = page.locator('[data-testid=update-table] details.reason');
      expect(await folded.count()).toBeGreaterThan(0);
      expect(await folded.first().getAttribute('open')).toBeNull();
      // Each row's state (all pages, through the CSV) is the stored state of that update for this computer.
      // (Required rows superseded by an Installed or Required update are counted, not listed.)
      const stored = new Map(
        all<{ update_id: string; state: string; superseded: number }>(
          'SELECT update_id, state, superseded FROM client_update_states WHERE computer = ' +
            "? AND NOT (state = 'Required' AND superseded = 1)",
          target,
        ).map((r) => [r.update_id, r]),
      );
      const sup = one<{ yes: number; possibly: number; required: number }>(
        `SELECT coalesce(sum(state = 'Required' AND superseded = 1), 0) AS yes,
      coalesce(sum(state = 'Required' AND superseded = 2), 0) AS possibly,
      count(*) FILTER (WHERE state = 'Required') AS required FROM client_update_states WHERE computer = ?`,
        target,
      );
      expect(await numIn(page, '[data-testid=count-superseded]')).toBe(sup.yes);
      expect(await numIn(page, '[data-testid=count-possiblySuperseded]')).toBe(sup.possibly);
      const rows = await csvOf(page, 'update-table');
      expect(rows.length).toBe(stored.size);
      for (const r of rows) {
        expect(stored.get(r.updateId)?.state, r.updateId).toBe(r.state);
        expect(stored.get(r.updateId)?.superseded === 1, r.updateId).toBe(r.superseded === 'true');
      }
      // Required first (what needs action), then filtered to Required only.
      expect(await page.locator('[data-testid=update-table] tbody tr').first().getAttribute('data-state')).toBe('Required');
      await page.click('[data-testid=state-filter] >> text=Required');
      const requiredRows = [...stored.values()].filter((r) => r.state === 'Required').length;
      expect(await pagerText(page)).toBe(`1–${Math.min(50, requiredRows)} of ${fmt(requiredRows)}`);
      // Superseded Required ones listed too, on request.
      await page.click('[data-testid=superseded-filter] >> text=with superseded Required updates');
      expect(await pagerText(page)).toBe(`1–${Math.min(50, sup.required)} of ${fmt(sup.required)}`);
      expect(sup.yes).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, 'computer.png'), fullPage: true });
      await ctx.close();
    },
  );

  it('drill-down from a classification, a product and a collection to their machines and updates', async () => {
    const { ctx, page } = await signedIn();
    // Classification: from the overview's table.
    const cls = one<{
      name: string;
    }>(`SELECT g.name FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id WHERE g.kind = 'classification'
      GROUP BY g.name ORDER BY sum(g.required) DESC LIMIT 1`).name;
    await page.click(`[data-testid=classifications] a >> text="${cls}"`);
    expect(await page.textContent('[data-testid=group-name]')).toBe(cls);
    const g = one<{ machines: number; installed: number; required: number; unknown: number }>(
      `SELECT count(*) AS machines, sum(g.installed) AS installed, sum(g.required) AS required, sum(g.unknown) AS unknown
      FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id WHERE g.kind = 'classification' AND g.name = ?`,
      cls,
    );
    expect(await numIn(page, '[data-testid=group-required]')).toBe(g.required);
    expect(await numIn(page, '[data-testid=group-installed]')).toBe(g.installed);
    expect(await numIn(page, '[data-testid=group-unknown]')).toBe(g.unknown);
    expect(await pagerText(page, 'group-machines')).toBe(`1–${Math.min(50, g.machines)} of ${fmt(g.machines)}`);
    const machines = await csvOf(page, 'group-machines');
    expect(machines.reduce((a, m) => a + Number(m.required), 0)).toBe(g.required);
    const clsUpdates = await csvOf(page, 'group-updates');
    expect(clsUpdates.length).toBeGreaterThan(0);
    for (const u of clsUpdates) expect(u.classification).toBe(cls);
    for (const u of clsUpdates.slice(0, 10)) expect(Number(u.required), u.updateId).toBe(fleetCountsOf(u.updateId).required);
    await page.screenshot({ path: join(ARTIFACTS, 'classification.png'), fullPage: false });

    // Product: from the overview's product table.
    await open(page, '/');
    const product = (await page.locator('[data-testid=products] tbody a').first().textContent())!;
    await page.click(`[data-testid=products] a >> text="${product}"`);
    expect(await page.textContent('[data-testid=group-name]')).toBe(product);
    const p = one<{ required: number; machines: number }>(
      `SELECT sum(g.required) AS required, count(*) AS machines FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id
      WHERE g.kind = 'product' AND g.name = ?`,
      product,
    );
    expect(await numIn(page, '[data-testid=group-required]')).toBe(p.required);
    expect((await csvOf(page, 'group-machines')).length).toBe(p.machines);
    for (const u of await csvOf(page, 'group-updates')) expect(u.products.split('; ')).toContain(product);

    // Collection: the main collection (every client, limit lifted), its members and their updates.
    await open(page, '/');
    await page.click('[data-testid=collections] a >> text="Microsoft Updates Tool"');
    expect(await page.textContent('[data-testid=collection-name]')).toBe('Microsoft Updates Tool');
    // Members as `patchscan collection show` lists them: every enrolled client, and computers named as direct members.
    const members = await csvOf(page, 'members');
    const named = all<{ computer: string }>(
      'SELECT computer FROM collection_members WHERE computer_key NOT IN (SELECT name_key FROM clients)',
    ).map((r) => r.computer);
    expect(members.map((m) => m.name).sort()).toEqual(
      [...all<{ name: string }>('SELECT name FROM clients').map((r) => r.name), ...named].sort(),
    );
    const scannedMembers = members.filter((m) => m.scannedAt !== '');
    expect(await numIn(page, '[data-testid=collection-scanned]')).toBe(scannedMembers.length);
    expect(scannedMembers.length).toBe(FLEET);
    expect(await numIn(page, '[data-testid=collection-required]')).toBe(
      one<{ n: number }>('SELECT sum(r.required) AS n FROM scans s JOIN result_sets r ON r.id = s.set_id').n,
    );
    const colUpdates = await csvOf(page, 'collection-updates');
    const some = colUpdates[0];
    expect(Number(some.required)).toBe(fleetCountsOf(some.updateId).required);
    await page.screenshot({ path: join(ARTIFACTS, 'collection.png'), fullPage: false });
    // The x64 collection: only x64 machines, and its updates counted over them only.
    await open(page, '/');
    const x64 = (await page.locator('[data-testid=collections] tbody a').allTextContents()).find((n) => /x64/i.test(n))!;
    await page.click(`[data-testid=collections] a >> text="${x64}"`);
    const x64Members = await csvOf(page, 'members');
    expect(x64Members.length).toBeGreaterThan(0);
    for (const m of x64Members) expect(m.architecture).toBe('x64');
    const x64Updates = await csvOf(page, 'collection-updates');
    for (const u of x64Updates.slice(0, 10)) {
      const n = one<{ n: number }>(
        `SELECT count(*) AS n FROM scans s JOIN clients c ON c.id = s.client_id JOIN result_updates r ON r.set_id = s.set_id
        WHERE c.architecture = 'x64' AND r.update_id = ? AND r.state = 'Required' AND r.superseded = 0`,
        u.updateId,
      ).n;
      expect(Number(u.required), u.updateId).toBe(n);
    }
    await ctx.close();
  });

  it(
    "update groups: the group's compliance per computer and per collection, overdue " + 'after the deadline, as the database says',
    async () => {
      const { ctx, page } = await signedIn();
      // The rule written out: NonCompliant when a group update is Required and not superseded on the machine; Unknown
      // when none is but one is Unknown or possibly superseded (or the machine was never scanned); Compliant otherwise.
      const want = new Map(
        all<{ name: string; architecture: string | null; set_id: number | null; missing: number; notKnown: number }>(
          `SELECT c.name, c.architecture, s.set_id,
         (SELECT count(*) FROM result_updates r JOIN update_group_updates u ON u.update_id = r.update_id
           WHERE r.set_id = s.set_id AND r.state = 'Required' AND r.superseded = 0) AS missing,
         (SELECT count(*) FROM result_updates r JOIN update_group_updates u ON u.update_id = r.update_id
           WHERE r.set_id = s.set_id AND (r.state = 'Unknown' OR (r.state = 'Required' AND r.superseded = 2))) AS notKnown
       FROM clients c LEFT JOIN scans s ON s.client_id = c.id`,
        ).map((r) => [
          r.name,
          {
            state: r.set_id === null ? 'Unknown' : r.missing > 0 ? 'NonCompliant' : r.notKnown > 0 ? 'Unknown' : 'Compliant',
            architecture: r.architecture,
          },
        ]),
      );
      const count = (st: string, arch?: string): number =>
        [...want.values()].filter((w) => w.state === st && (arch === undefined || w.architecture === arch)).length;
      expect(count('NonCompliant')).toBeGreaterThan(0);
      expect(count('Compliant')).toBeGreaterThan(0);
      await page.click('header >> text=Update groups');
      const row = await page.locator('[data-testid=group-list] tbody tr').first().locator('td').allTextContents();
      expect(row[0]).toBe(GROUP);
      expect(row.slice(3, 8)).toEqual([
        fmt(CLIENTS),
        fmt(count('Compliant')),
        fmt(count('NonCompliant')),
        fmt(count('Unknown')),
        fmt(count('NonCompliant')),
      ]);
      await page.click(`[data-testid=group-list] a >> text="${GROUP}"`);
      expect(await page.textContent('[data-testid=group-title]')).toBe(GROUP);
      expect(await numIn(page, '[data-testid=ug-compliant]')).toBe(count('Compliant'));
      expect(await numIn(page, '[data-testid=ug-noncompliant]')).toBe(count('NonCompliant'));
      expect(await numIn(page, '[data-testid=ug-unknown]')).toBe(count('Unknown'));
      expect(await numIn(page, '[data-testid=ug-overdue]')).toBe(count('NonCompliant'));
      const percent = Math.round((count('Compliant') / CLIENTS) * 1000) / 10;
      expect(await page.textContent('[data-testid=ug-percent]')).toBe(`${percent.toFixed(1)} %`);
      const computers = await csvOf(page, 'group-computers');
      expect(computers.length).toBe(CLIENTS);
      for (const c of computers) expect(c.state, c.computer).toBe(want.get(c.computer)!.state);
      expect(await page.locator('[data-testid=group-computers] tbody tr').first().getAttribute('data-state')).toBe('NonCompliant');
      const updates = await csvOf(page, 'group-update-list');
      expect(updates.length).toBe(one<{ n: number }>('SELECT count(*) AS n FROM update_group_updates').n);
      // Per collection: the x64 collection's members are the x64 clients.
      const perCol = await cellsOf(page, 'group-collections');
      const x64 = perCol.find((r) => /x64$/.test(r[0]))!;
      const x64Members = count('Compliant', 'x64') + count('NonCompliant', 'x64') + count('Unknown', 'x64');
      expect(x64.slice(1, 5)).toEqual([
        fmt(x64Members),
        fmt(count('Compliant', 'x64')),
        fmt(count('NonCompliant', 'x64')),
        fmt(count('Unknown', 'x64')),
      ]);
      // Only the overdue ones.
      await page.click('[data-testid=group-overdue-filter] >> text=overdue only');
      expect(await pagerText(page, 'group-computers')).toBe(`1–${Math.min(50, count('NonCompliant'))} of ${fmt(count('NonCompliant'))}`);
      await page.screenshot({ path: join(ARTIFACTS, 'group.png'), fullPage: false });
      expect((await page.goto(`${server.url}/groups/no-such-group`))?.status()).toBe(404);
      await ctx.close();
    },
  );

  it('stale clients and sync: lists with their CSV, readable times; sign-out ends the session', async () => {
    const { ctx, page } = await signedIn();
    await page.click('header >> text=Stale clients');
    expect(await page.locator('[data-testid=stale-list] tbody a').allTextContents()).toEqual(['OLD-PC-1', 'OLD-PC-2']);
    expect((await csvOf(page, 'stale-list')).map((r) => r.name)).toEqual(['OLD-PC-1', 'OLD-PC-2']);
    await open(page, '/stale?days=0');
    expect(await page.locator('[data-testid=stale-list] tbody tr').count()).toBe(50);
    await page.click('header >> text=Sync');
    expect(await page.textContent('[data-testid=catalog-in-service]')).toContain((await site.store.currentCatalog())!.sha256);
    expect(await page.textContent('[data-testid=sync-messages]')).toContain('SMS Legacy Update Synchronization done');
    const msgs = await csvOf(page, 'sync-messages');
    expect(msgs.length).toBe(one<{ n: number }>('SELECT count(*) AS n FROM sync_messages').n);
    expect(await page.innerText('body')).not.toMatch(RAW_ISO);
    await page.screenshot({ path: join(ARTIFACTS, 'sync.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${server.url}/login`), page.click('form.signout button')]);
    await page.goto(`${server.url}/computers`);
    expect(new URL(page.url()).pathname).toBe('/login');
    const csv = await page.request.get(`${server.url}/computers?format=csv&list=computer-list`, { maxRedirects: 0 });
    expect(csv.status()).toBe(303);
    await ctx.close();
  });

  it('empty states tell the administrator what to do next (a new site: no catalog, no clients)', async () => {
    const fresh = tempDir();
    writeConfig(fresh, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
    const s2 = await Site.open(fresh);
    await s2.store.setSetting('admin_token_hash', sha256Hex(ADMIN));
    const srv = await serve(s2, { scheduledSync: false, scanQueue: false });
    try {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${srv.url}/login`);
      await page.fill('input[name=token]', ADMIN);
      await Promise.all([page.waitForURL(`${srv.url}/`), page.click('form.search button[type=submit]')]);
      expect(await page.textContent('[data-testid=next-step]')).toContain('No catalog yet: run patchscan sync');
      expect(await page.textContent('[data-testid=trend-empty]')).toContain('No history yet');
      await page.goto(`${srv.url}/updates`);
      expect(await page.textContent('[data-testid=update-list-empty]')).toContain('No catalog yet: run patchscan sync');
      await page.goto(`${srv.url}/computers`);
      expect(await page.textContent('[data-testid=computer-list-empty]')).toContain('patchscan client enroll NAME');
      await page.goto(`${srv.url}/sync`);
      expect(await page.textContent('[data-testid=sync-messages-empty]')).toContain('Run patchscan sync');
      expect(await page.innerText('body')).not.toContain('0–0 of 0');
      await ctx.close();
    } finally {
      await srv.close();
      await s2.close();
    }
  });

  it("lists paged by the store sort by a clicked column header, in SQL: the order is the database's", async () => {
    const { ctx, page } = await signedIn();
    const firstColumn = async (list: string): Promise<string[]> => (await cellsOf(page, list)).map((r) => r[0]);
    /** Clicks a column's header link in `list` and waits for the page it leads to. */
    const sortBy = async (list: string, label: string): Promise<void> => {
      const link = page.locator(`[data-testid=${list}] thead th a`, { hasText: label }).first();
      const href = (await link.getAttribute('href'))!;
      await Promise.all([page.waitForURL((u) => `${u.pathname}${u.search}` === href), link.click()]);
    };

    // A classification's machines: Required ascending (the default is descending), then by name.
    const cls = one<{ name: string }>(
      "SELECT g.name FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id WHERE g.kind = 'classification' GROUP BY g.name ORDER BY count(*) DESC LIMIT 1",
    ).name;
    await open(page, `/classifications/${encodeURIComponent(cls)}`);
    await sortBy('group-machines', 'Required');
    expect(new URL(page.url()).searchParams.get('dir')).toBe('asc');
    const byRequired = all<{ name: string }>(
      `SELECT c.name FROM result_set_groups g JOIN scans s ON s.set_id = g.set_id JOIN clients c ON c.id = s.client_id
      WHERE g.kind = 'classification' AND g.name = ? ORDER BY g.required ASC, c.name_key LIMIT 50`,
      cls,
    ).map((r) => r.name);
    expect(byRequired.length).toBeGreaterThan(1);
    expect(await firstColumn('group-machines')).toEqual(byRequired);
    await sortBy('group-machines', 'Computer');
    const byName = all<{ name: string }>(
      `SELECT c.name FROM result_set_groups g JOIN scans s ON s.set_id = g.set_id JOIN clients c ON c.id = s.client_id
      WHERE g.kind = 'classification' AND g.name = ? ORDER BY c.name_key LIMIT 50`,
      cls,
    ).map((r) => r.name);
    expect(await firstColumn('group-machines')).toEqual(byName);
    // The CSV keeps the order shown.
    expect((await csvOf(page, 'group-machines')).slice(0, 50).map((r) => r.name)).toEqual(byName);

    // An update's machines by state (Required, Unknown, possibly superseded, superseded, Installed), then by name.
    const updateId = one<{ update_id: string }>(
      'SELECT r.update_id FROM scans s JOIN result_updates r ON r.set_id = s.set_id GROUP BY r.update_id HAVING count(DISTINCT r.state) > 1 ORDER BY count(*) DESC LIMIT 1',
    ).update_id;
    await open(page, `/updates/${updateId}?superseded=show`);
    await sortBy('machine-list', 'State');
    const byState = all<{ name: string }>(
      `SELECT c.name FROM scans s JOIN result_updates r ON r.set_id = s.set_id JOIN clients c ON c.id = s.client_id WHERE r.update_id = ?
      ORDER BY CASE WHEN r.state = 'Required' AND r.superseded = 0 THEN 0 WHEN r.state = 'Unknown' THEN 1
        WHEN r.state = 'Required' AND r.superseded = 2 THEN 2 WHEN r.state = 'Required' THEN 3 WHEN r.state = 'Installed' THEN 4 ELSE 5 END,
        c.name_key LIMIT 50`,
      updateId,
    ).map((r) => r.name);
    expect(await firstColumn('machine-list')).toEqual(byState);
    await sortBy('machine-list', 'State'); // again: descending
    expect(new URL(page.url()).searchParams.get('dir')).toBe('desc');
    const states = (await cellsOf(page, 'machine-list')).map((r) => r[1]);
    expect(states[0]).not.toMatch(/^Required$/);

    // Stale clients (every client, days=0) by name descending, then by last upload (never uploaded first).
    await open(page, '/stale?days=0');
    await sortBy('stale-list', 'Computer');
    await sortBy('stale-list', 'Computer');
    expect(await firstColumn('stale-list')).toEqual(
      all<{ name: string }>('SELECT name FROM clients ORDER BY name_key DESC LIMIT 50').map((r) => r.name),
    );
    await sortBy('stale-list', 'Last seen');
    expect(await firstColumn('stale-list')).toEqual(
      all<{ name: string }>('SELECT name FROM clients ORDER BY last_upload_at ASC NULLS FIRST, name_key LIMIT 50').map((r) => r.name),
    );
    await ctx.close();
  });

  it('makes no request outside the server, and pages need the session', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    await page.goto(`${server.url}/computers/PC-0000001`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=token]', ADMIN);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
    for (const path of ['/computers/PC-0000001', '/updates', '/collections/Microsoft%20Updates%20Tool', '/']) {
      await page.goto(`${server.url}${path}`);
    }
    expect([...hosts]).toEqual([new URL(server.url).host]);
    const res = await page.request.get(`${server.url}/v1/reports/classifications?format=csv`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status()).toBe(200);
    expect((await res.text()).split('\r\n')[0]).toBe('name,installed,required,superseded,possiblySuperseded,unknown');
    // A bad sort column is a page that names it, not a 500.
    const bad = await page.goto(`${server.url}/computers?sort=password`);
    expect(bad?.status()).toBe(400);
    expect(await page.textContent('[data-testid=error]')).toContain('sort="password" is not a column of this list');
    await ctx.close();
  });
});
