/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real server seeded
 * with a generated fleet: sign in, read the overview, search a computer, open its compliance page and an update's
 * page, and check every number shown against the database. Screenshots go to test/.artifacts/console/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { ensureObjects } from '../../adapters/site/objects.js';
import { SiteScanner } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import Database from 'better-sqlite3';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { runSync } from '../../adapters/sync/sync.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const ARTIFACTS = new URL('../.artifacts/console/', import.meta.url).pathname;
const CHROMIUM = process.env.PATCHSCAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';
const ADMIN = 'psa_console-test-token';
const FLEET = 160;

describe('web console in Chromium', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
    site = await Site.open(dir);
    await ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
    await site.store.setSetting('admin_token_hash', sha256Hex(ADMIN));
    await site.store.setSetting('initialized_at', new Date().toISOString());
    expect((await runSync(site, { source: BUNDLED })).outcome).toBe('updated');
    // A generated fleet, stored as uploads would store it, then scanned by the site's queue.
    const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
    const packr = new Packr({ useRecords: false });
    await site.store.transaction(async (tx) => {
      for (let k = 0; k < FLEET; k++) {
        const inv = model.machine(21, k);
        await tx.enroll(inv.computer.name);
        const id = (await tx.client(inv.computer.name))!.id;
        const arch = { 0: 'x86', 9: 'x64', 6: 'ia64', 12: 'arm64' }[inv.processor?.architecture ?? -1] ?? 'other';
        await tx.addInventory(id, packr.pack(inv), arch);
        await tx.enqueueScan(id, 'normal', 'seed');
      }
    });
    await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
    // Two clients never report: the stale list has them.
    await site.store.enroll('OLD-PC-1');
    await site.store.enroll('OLD-PC-2');
    expect((await new SiteScanner(site).runQueue()).scanned).toBe(FLEET);
    // The numbers on the pages are checked against the database file itself, read by a connection of our own.
    sql = new Database(join(dir, DEFAULT_CONFIG.database), { readonly: true });
    server = await serve(site, { scheduledSync: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await site?.close();
    sql?.close();
  });

  let sql: Database.Database;
  const db = <T>(text: string, ...args: unknown[]): T => sql.prepare(text).get(...args) as T;

  it('asks for the admin token, refuses a wrong one, then shows the fleet overview with the database\'s numbers', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=token]', 'psa_wrong');
    await page.click('button[type=submit]');
    expect(await page.textContent('[data-testid=login-error]')).toBe('That is not the admin token.');
    await page.fill('input[name=token]', ADMIN);
    await page.click('button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/');
    const t = db<{ scanned: number; compliant: number; required: number }>('SELECT count(*) AS scanned, sum(r.required = 0) AS compliant, sum(r.required) AS required FROM scans s JOIN result_sets r ON r.id = s.set_id');
    expect(await page.textContent('[data-testid=kpi-clients]')).toBe(String(FLEET + 2));
    expect(await page.textContent('[data-testid=kpi-scanned]')).toBe(t.scanned.toLocaleString('en-US'));
    expect(await page.textContent('[data-testid=kpi-compliant]')).toBe(t.compliant.toLocaleString('en-US'));
    expect(await page.textContent('[data-testid=kpi-required]')).toBe(t.required.toLocaleString('en-US'));
    // The classification chart has one bar group per classification in the results; the trend has today's point.
    const classes = (sql.prepare("SELECT DISTINCT g.name FROM scans s JOIN result_set_groups g ON g.set_id = s.set_id WHERE g.kind = 'classification'").all() as { name: string }[]).length;
    expect(classes).toBeGreaterThan(1);
    expect(await page.locator('[data-testid=classification-chart] text[text-anchor=end]').count()).toBe(classes);
    expect(await page.locator('[data-testid=trend-chart] circle').count()).toBe(1);
    expect(await page.textContent('[data-testid=collections]')).toContain('Microsoft Updates Tool (pre-production)');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    await page.close();
  });

  it('searches a computer, opens its compliance page, and its states and counts are the database\'s', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(5_000); // a missing element fails fast, naming its selector
    const page = await ctx.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name=token]', ADMIN);
    await page.click('button[type=submit]');
    await page.click('header >> text=Computers');
    await page.fill('input[name=q]', 'pc-000004');
    await page.click('form.search button[type=submit]');
    const links = await page.locator('[data-testid=computer-list] a').allTextContents();
    expect(links).toEqual(Array.from({ length: 10 }, (_, k) => `PC-000004${k}`));
    await page.screenshot({ path: join(ARTIFACTS, 'search.png'), fullPage: true });
    // A computer of that page that needs something (so that its Required rows can be followed).
    const target = db<{ name: string }>("SELECT c.name FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name LIKE 'PC-000004%' AND r.required > 0 ORDER BY c.name").name;
    await page.click(`text=${target}`);
    expect(await page.textContent('[data-testid=computer-name]')).toBe(target);
    const want = db<{ installed: number; required: number; unknown: number; scanned_at: string }>(
      'SELECT r.installed, r.required, r.unknown, s.scanned_at FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name = ?', target);
    expect(await page.textContent('[data-testid=count-Installed]')).toBe(String(want.installed));
    expect(await page.textContent('[data-testid=count-Required]')).toBe(String(want.required));
    expect(await page.textContent('[data-testid=count-Unknown]')).toBe(String(want.unknown));
    expect(await page.textContent('[data-testid=scanned-at]')).toBe(want.scanned_at);
    expect(await page.locator('[data-testid=update-table] tr[data-state=Required]').count()).toBe(want.required);
    expect(await page.locator('[data-testid=update-table] tr[data-state=Installed]').count()).toBe(want.installed);
    // Each row's state is the stored state of that update for this computer.
    const stored = new Map((sql.prepare('SELECT update_id, state FROM client_update_states WHERE computer = ?').all(target) as { update_id: string; state: string }[]).map((r) => [r.update_id, r.state]));
    const shown = await page.locator('[data-testid=update-table] tr[data-state]').evaluateAll((rows) => rows.map((r) => [(r.querySelector('a') as HTMLAnchorElement).href.split('/updates/')[1], r.getAttribute('data-state')]));
    expect(shown.length).toBe(stored.size);
    for (const [id, state] of shown) expect(stored.get(decodeURIComponent(id!))).toBe(state);
    await page.screenshot({ path: join(ARTIFACTS, 'computer.png'), fullPage: true });

    // Only the Required ones, then an update's page: who needs it across the fleet.
    await page.click('a[href="?state=Required"]');
    expect(await page.locator('[data-testid=update-table] tr[data-state]').count()).toBe(want.required);
    const first = page.locator('[data-testid=update-table] tr[data-state=Required] a').first();
    const updateId = decodeURIComponent((await first.getAttribute('href'))!.split('/updates/')[1]!);
    await first.click();
    const needs = db<{ n: number }>("SELECT count(*) AS n FROM client_update_states WHERE update_id = ? AND state = 'Required'", updateId).n;
    const has = db<{ n: number }>("SELECT count(*) AS n FROM client_update_states WHERE update_id = ? AND state = 'Installed'", updateId).n;
    expect(await page.textContent('[data-testid=update-Required]')).toBe(needs.toLocaleString('en-US'));
    expect(await page.textContent('[data-testid=update-Installed]')).toBe(has.toLocaleString('en-US'));
    expect(await page.locator('[data-testid=machine-list] a').allTextContents()).toContain(target);
    expect(want.required).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'update.png'), fullPage: true });

    await page.click('header >> text=Stale clients');
    expect(await page.locator('[data-testid=stale-list] a').allTextContents()).toEqual(['OLD-PC-1', 'OLD-PC-2']);
    await page.click('header >> text=Sync');
    expect(await page.textContent('[data-testid=catalog-in-service]')).toContain((await site.store.currentCatalog())!.sha256);
    expect(await page.textContent('[data-testid=sync-messages]')).toContain('SMS Legacy Update Synchronization done');
    await page.screenshot({ path: join(ARTIFACTS, 'sync.png'), fullPage: true });
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
    await page.click('button[type=submit]');
    await page.goto(`${server.url}/computers/PC-0000001`);
    await page.goto(`${server.url}/`);
    expect([...hosts]).toEqual([new URL(server.url).host]);
    const res = await page.request.get(`${server.url}/v1/reports/classifications?format=csv`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status()).toBe(200);
    expect((await res.text()).split('\r\n')[0]).toBe('name,installed,required,unknown');
    await ctx.close();
  });
});
