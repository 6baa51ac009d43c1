/**
 * The site server on a real loopback port with a real SQLite file: enroll → upload → result; every refusal
 * (401, 403, 413, 400, 415, 429); expedited uploads overtaking a queue of normal scans; the pilot → unlimit flow.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { collectionSummary } from '../../adapters/site/reports.js';
import { countedAs, emptyCounts } from '../../engine/scanner/counting.js';
import { supersedenceCode } from '../../engine/scanner/supersedence.js';
import { members, TargetingSnapshot } from '../../adapters/site/targeting.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const ADMIN = 'psa_test-admin-token';

function post(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/inventory`,
      { method: 'POST', headers: { 'content-length': String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function get(url: string, token?: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await r.text();
  return { status: r.status, body: r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

describe('patchscan serve', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let model: FleetModel;
  const tokens = new Map<string, string>();
  /** A fleet machine renamed, on a chosen architecture (9 x64, 0 x86, 6 IA64, 12 ARM64). */
  const machine = (name: string, arch = 9, k = 0): Inventory => ({
    ...model.machine(3, k),
    computer: { name },
    processor: { architecture: arch },
  });
  const json = (inv: Inventory): Buffer => Buffer.from(JSON.stringify(inv));

  beforeAll(async () => {
    writeConfig(dir, {
      ...DEFAULT_CONFIG,
      listen: '127.0.0.1:0',
      limits: { ...DEFAULT_CONFIG.limits, maxUploadBytes: 200_000, maxInventoryBytes: 400_000, uploadsPerMinute: 10 },
    });
    site = await Site.open(dir);
    expect((await setUpSite(site, { testComputer: 'PILOT-PC', syncHost: 'SYNC-HOST', admin: ADMIN, sync: true }))?.outcome).toBe('updated');
    model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
    for (const n of ['PILOT-PC', 'PC-X64', 'PC-X86', 'PC-IA64', 'PC-ARM64', 'PC-LIMIT', 'PC-BUSY'])
      tokens.set(n, await site.store.enroll(n));
    server = await serve(site, { scheduledSync: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });

  it('listens on loopback only by default and answers health and metrics without auth', async () => {
    expect(DEFAULT_CONFIG.listen).toBe('127.0.0.1:8530');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await get(`${server.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', catalog: { revisions: 3000 } });
    const m = await get(`${server.url}/metrics`);
    expect(m.body).toMatch(/^patchscan_uploads_total\{result="accepted"\} \d+$/m);
    expect(m.body).not.toMatch(/pst_|psa_/);
  });

  it('enroll → upload → result: the pilot computer is scanned and its compliance is served to it and to the admin', async () => {
    const r = await upload(server.url, tokens.get('PILOT-PC')!, json(machine('PILOT-PC')));
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      accepted: true,
      computer: 'PILOT-PC',
      queued: 'normal',
      targeted: true,
      program: 'Microsoft Updates Tool x64',
      collection: 'Microsoft Updates Tool x64',
    });
    // Durable before the answer: the row is there the moment 202 arrives.
    expect(await site.store.inventoryCount((await site.store.client('PILOT-PC'))!.id)).toBe(1);
    await server.idle();
    const c = await get(`${server.url}/v1/computers/PILOT-PC/compliance`, tokens.get('PILOT-PC'));
    expect(c.status).toBe(200);
    expect(c.body.computer).toBe('PILOT-PC');
    expect(c.body.program).toBe('Microsoft Updates Tool x64');
    expect(c.body.catalog.sha256).toBe((await site.store.currentCatalog())!.sha256);
    // Listed rows counted by the rule give the counts; superseded Required rows are counted and not listed (hidden).
    const listed = emptyCounts();
    for (const u of c.body.updates as { state: string; superseded: boolean; possiblySuperseded: boolean }[])
      listed[countedAs(u.state, supersedenceCode(u))]++;
    expect({
      Installed: listed.installed,
      Required: listed.required,
      possiblySuperseded: listed.possiblySuperseded,
      Unknown: listed.unknown,
      hidden: c.body.hidden,
    }).toEqual({
      Installed: c.body.counts.Installed,
      Required: c.body.counts.Required,
      possiblySuperseded: c.body.counts.possiblySuperseded,
      Unknown: c.body.counts.Unknown,
      hidden: c.body.counts.superseded,
    });
    expect(listed.superseded).toBe(0);
    expect(c.body.updates[0]).toEqual(
      expect.objectContaining({
        updateId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        state: expect.any(String),
        reason: expect.any(String),
        title: expect.any(String),
      }),
    );
    // The same result through the engine directly (the server adds storage, not semantics).
    const direct = new Scanner(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path))).scan(machine('PILOT-PC'));
    expect(c.body.updates.map((u: { updateId: string; state: string; reason: string }) => `${u.updateId} ${u.state} ${u.reason}`)).toEqual(
      direct.filter((d) => !(d.state === 'Required' && d.superseded)).map((d) => `${d.updateId} ${d.state} ${d.reason}`),
    );
    const all = await get(`${server.url}/v1/computers/PILOT-PC/compliance?superseded=SHOW`, ADMIN);
    expect(all.body.updates.map((u: { updateId: string; state: string }) => `${u.updateId} ${u.state}`)).toEqual(
      direct.map((d) => `${d.updateId} ${d.state}`),
    );
    const admin = await get(`${server.url}/v1/computers/PILOT-PC/compliance`, ADMIN);
    expect(admin.body.updates).toEqual(c.body.updates);
    const csv = (await get(`${server.url}/v1/computers/PILOT-PC/compliance?format=csv`, ADMIN)).body as string;
    expect(csv.split('\r\n')[0]).toBe(
      'computer,kb,title,classification,severity,releaseDate,cves,moreInfoUrl,state,superseded,possiblySuperseded,reason,scannedAt,catalog',
    );
    expect(csv.trim().split('\r\n')).toHaveLength(c.body.updates.length + 1);
    const summary = await get(`${server.url}/v1/summary`, ADMIN);
    expect(summary.body).toMatchObject({ scanned: 1, catalog: { revisions: 3000 } });
  });

  it("refuses: no token 401, wrong token 401, another computer's inventory 403, another computer's report 403", async () => {
    const body = json(machine('PC-X64'));
    const none = await post(server.url, body, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Authorization: Bearer') } });
    expect((await post(server.url, body, { 'content-type': 'application/json', authorization: 'Bearer pst_wrong' })).status).toBe(401);
    const other = await post(server.url, body, { 'content-type': 'application/json', authorization: `Bearer ${tokens.get('PC-X86')!}` });
    expect(other.status).toBe(403);
    expect(other.body).toEqual({
      error: { code: 'FORBIDDEN', message: 'this token belongs to PC-X86; it cannot upload the inventory of PC-X64' },
    });
    expect((await get(`${server.url}/v1/computers/PILOT-PC/compliance`, tokens.get('PC-X86'))).status).toBe(403);
    expect((await get(`${server.url}/v1/summary`, tokens.get('PC-X86'))).status).toBe(401);
    expect(await site.store.inventoryCount((await site.store.client('PC-X64'))!.id)).toBe(0);
  });

  it('refuses: oversize 413 (declared, streamed, and a gzip bomb), malformed 400 naming the field, wrong type 415', async () => {
    const auth = { authorization: `Bearer ${tokens.get('PC-X64')!}` };
    const big = Buffer.alloc(300_000, 0x20);
    expect((await post(server.url, big, { ...auth, 'content-type': 'application/json' })).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
    const b = await post(server.url, bomb, { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(b.status).toBe(413);
    expect(b.body).toEqual({
      error: { code: 'TOO_LARGE', message: 'the inventory inflates past 400000 bytes (limits.maxInventoryBytes)' },
    });
    const bad = { ...machine('PC-X64'), files: [{ path: 'C:\\x.dll', exists: true, version: 'one' }] };
    const m = await post(server.url, json(bad), { ...auth, 'content-type': 'application/json' });
    expect(m.status).toBe(400);
    expect(m.body).toEqual({
      error: { code: 'INVENTORY_INVALID', message: 'upload: files[0].version: must be a version such as 10.0.19041.3803, got "one"' },
    });
    expect((await post(server.url, Buffer.from('{"schema":'), { ...auth, 'content-type': 'application/json' })).status).toBe(400);
    expect((await post(server.url, json(machine('PC-X64')), { ...auth, 'content-type': 'text/plain' })).status).toBe(415);
    expect(await site.store.inventoryCount((await site.store.client('PC-X64'))!.id)).toBe(0);
    // msgpack + gzip is accepted.
    const ok = await post(server.url, gzipSync(new Packr({ useRecords: false }).pack(machine('PC-X64'))), {
      ...auth,
      'content-type': 'application/msgpack',
      'content-encoding': 'gzip',
    });
    expect(ok.status).toBe(202);
  });

  it('too many uploads from one client in a minute: 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retry: unknown;
    for (let i = 0; i < 12; i++) {
      const r = await post(server.url, json(machine('PC-LIMIT')), {
        authorization: `Bearer ${tokens.get('PC-LIMIT')!}`,
        'content-type': 'application/json',
      });
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers['retry-after'];
    }
    expect(statuses).toEqual([...Array(10).fill(202), 429, 429]);
    expect(Number(retry)).toBeGreaterThan(0);
  });

  it(
    'the pilot: only the test computer is scanned until "Microsoft Updates Tool" is ' + 'unlimited; then every eligible client is',
    async () => {
      for (const [name, arch] of [
        ['PC-X86', 0],
        ['PC-IA64', 6],
        ['PC-ARM64', 12],
      ] as const) {
        const r = await upload(server.url, tokens.get(name)!, json(machine(name, arch)));
        expect(r.status).toBe(202);
        expect(r.body.targeted).toBe(false);
        expect(String(r.body.note)).toMatch(/no advertised collection targets this computer yet/);
      }
      await server.idle();
      const scanned = async (): Promise<string[]> =>
        (await site.store.clients())
          .filter((c) => c.last_scan_at !== null)
          .map((c) => c.name)
          .sort();
      expect(await scanned()).toEqual(['PILOT-PC']);
      expect((await get(`${server.url}/v1/computers/PC-X86/compliance`, ADMIN)).body).toEqual({
        error: {
          code: 'NOT_FOUND',
          message: expect.stringMatching(/^PC-X86 has not been scanned yet: no advertised collection targets it \(architecture x86\)/),
        },
      });
      // The seed's last step (what `patchscan collection unlimit` does).
      const main = (await site.store.collectionByName('Microsoft Updates Tool'))!;
      await site.store.setCollectionLimit(main.id, null);
      await new ScanService(site).rescanAll('unlimited');
      await server.idle();
      expect(await scanned()).toEqual(['PC-ARM64', 'PC-IA64', 'PC-LIMIT', 'PC-X64', 'PC-X86', 'PILOT-PC']);
      const programs: Record<string, string> = {};
      for (const name of await scanned()) programs[name] = (await site.store.computerScan(name))!.program;
      expect(programs).toMatchObject({
        'PC-X86': 'Microsoft Updates Tool',
        'PC-IA64': 'Microsoft Updates Tool IA64',
        'PC-ARM64': 'Microsoft Updates Tool ARM64',
        'PC-X64': 'Microsoft Updates Tool x64',
      });
      // The collection report (grouped SQL) agrees with targeting's member-by-member rule: members are enrolled clients
      // and computers named as direct members (the sync host), counted once.
      const enrolled = new Set((await site.store.clients()).map((c) => c.name.toLowerCase()));
      for (const row of await collectionSummary(site.store)) {
        const id = (await site.store.collectionByName(row.name))!.id;
        const names = await members(site.store, id);
        expect(row.members, row.name).toBe(names.length);
        expect(row.enrolled, row.name).toBe(names.filter((m) => enrolled.has(m.toLowerCase())).length);
      }
      expect((await collectionSummary(site.store)).find((r) => r.name === 'Microsoft Updates Tool IA64')).toMatchObject({
        members: 1,
        scanned: 1,
      });
      // The in-memory targeting the upload path uses notices a change made behind its back (here: limiting again).
      const snap = new TargetingSnapshot(site.store);
      const x86 = (await site.store.client('PC-X86'))!;
      expect(await snap.program(x86, false)).toEqual({ program: 'Microsoft Updates Tool', collection: 'Microsoft Updates Tool' });
      // A second process (its own store on the same site) limits the collection again.
      const other = await Site.open(dir);
      await other.store.setCollectionLimit(main.id, (await other.store.objectId('collection', 'pilot'))!);
      await other.close();
      expect(await snap.program(x86, false)).toBeUndefined();
      expect(await snap.program((await site.store.client('PILOT-PC'))!, true)).toEqual({
        program: 'Microsoft Updates Tool x64 (expedited)',
        collection: 'Microsoft Updates Tool x64',
      });
      await site.store.setCollectionLimit(main.id, null);
    },
  );

  it('an expedited upload overtakes a queue of normal scans and is visible in seconds', async () => {
    // Fill the queue with normal rescans of many stored inventories (distinct profiles: each is a real scan).
    const packr = new Packr({ useRecords: false });
    await site.store.transaction(async (tx) => {
      for (let k = 0; k < 150; k++) {
        const name = `QUEUED-${k}`;
        await tx.enroll(name);
        const id = (await tx.client(name))!.id;
        await tx.addInventory(id, packr.pack({ ...model.machine(11, k), computer: { name } }), 'x64');
        await tx.enqueueScan(id, 'normal', 'test backlog');
      }
    });
    const t = Date.now();
    const r = await upload(server.url, tokens.get('PC-BUSY')!, json(machine('PC-BUSY', 9, 7)), { expedited: true });
    expect(r.body).toMatchObject({ queued: 'expedited', program: 'Microsoft Updates Tool x64 (expedited)' });
    let c: { status: number; body: any } = { status: 0, body: null };
    while (Date.now() - t < 10_000) {
      c = await get(`${server.url}/v1/computers/PC-BUSY/compliance`, ADMIN);
      if (c.status === 200) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(c.status).toBe(200);
    expect(c.body.program).toBe('Microsoft Updates Tool x64 (expedited)');
    // Normal scans queued before it were still waiting when it was done.
    const waiting = { n: (await site.store.queueStatus()).queued.normal };
    const doneBefore = {
      n: (await site.store.clients()).filter(
        (x) => x.name.startsWith('QUEUED-') && x.last_scan_at !== null && x.last_scan_at < c.body.scannedAt,
      ).length,
    };
    expect(waiting.n + doneBefore.n).toBeLessThanOrEqual(150);
    expect(doneBefore.n).toBeLessThan(150);
    expect(waiting.n).toBeGreaterThan(0);
    await server.idle();
    expect((await site.store.queueStatus()).queued).toEqual({ expedited: 0, normal: 0 });
  });

  it('keeps scanning with the configuration it started with when patchscan.json is broken meanwhile', async () => {
    // A new server (so a new scan thread) on a site whose file now holds a typo: the thread must not read it.
    await server.close();
    const file = join(dir, 'patchscan.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{ "listen": ');
    const logged: string[] = [];
    try {
      server = await serve(site, { scheduledSync: false, log: (l) => logged.push(l) });
      const r = await upload(server.url, tokens.get('PC-X64')!, json(machine('PC-X64', 9, 3)));
      expect(r.status).toBe(202);
      await server.idle();
      expect(logged.filter((l) => /scan queue/.test(l))).toEqual([]);
      expect((await site.store.queueStatus()).queued).toEqual({ expedited: 0, normal: 0 });
      const c = await get(`${server.url}/v1/computers/PC-X64/compliance`, ADMIN);
      expect(c.status).toBe(200);
    } finally {
      writeFileSync(file, good);
    }
  });
});

describe('patchscan serve with TLS and a scheduled sync', () => {
  const dir = tempDir();
  it('speaks HTTPS when the configuration names a certificate and key, and syncs on its schedule at start', async () => {
    const tls = selfSignedCertificate(dir);
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    copyFileSync(BUNDLED, join(drop, 'wsusscn2.cab'));
    const data = join(dir, 'site');
    writeConfig(data, {
      ...DEFAULT_CONFIG,
      listen: '127.0.0.1:0',
      tls,
      sync: { ...DEFAULT_CONFIG.sync, source: drop },
    });
    const site = await Site.open(data);
    await setUpSite(site, { testComputer: 'T', syncHost: 'S' }); // not synced: the schedule's sync at start is the test
    const bin = new URL('../../dist/adapters/cli/bin.js', import.meta.url).pathname;
    const s = await serve(site, { syncCommand: [process.execPath, bin, 'sync', '--data', data] });
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      // No sync has run yet, so the schedule runs one at start (a child process); the catalog comes into service.
      let health: { catalog: { revisions: number } | null } = { catalog: null };
      for (let i = 0; i < 200 && !health.catalog; i++) {
        health = await new Promise((resolve, reject) => {
          httpsRequest(`${s.url}/healthz`, { ca: readFileSync(tls.cert) }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve(JSON.parse(body) as typeof health));
          })
            .on('error', reject)
            .end();
        });
        if (!health.catalog) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health.catalog?.revisions).toBe(3000);
      expect((await site.store.syncMessages(10)).map((m) => m.message_id).sort()).toEqual([6709, 6710]);
    } finally {
      await s.close();
      await site.close();
    }
  }, 60_000);
});
