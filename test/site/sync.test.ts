/**
 * Catalog sync against real sources: a folder, a real HTTP server on loopback (ETag, Last-Modified, Range), a
 * corrupted cabinet and an oversized one (6711, the last good catalog stays), a broken download resumed, an
 * Authenticode-signed cabinet (signer and date recorded), and the rescan of stored inventories after a new catalog.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { parseSignedData, readAuthenticode } from '../../adapters/sync/authenticode.js';
import { MSG_SYNC_DONE, MSG_SYNC_FAILED, MSG_SYNC_STARTED, runSync } from '../../adapters/sync/sync.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

async function newSite(dir: string, sync: Partial<typeof DEFAULT_CONFIG.sync> = {}): Promise<Site> {
  writeConfig(dir, { ...DEFAULT_CONFIG, sync: { ...DEFAULT_CONFIG.sync, retries: 2, backoffMs: 10, timeoutMs: 2_000, ...sync } });
  const site = await Site.open(dir);
  await setUpSite(site, { testComputer: 'PILOT', syncHost: 'SYNC' });
  return site;
}

const messages = async (site: Site): Promise<[number, string][]> =>
  (await site.store.syncMessages(100)).reverse().map((m): [number, string] => [m.message_id, m.text]);

/** How many catalogs the site database records, read from the SQLite file on its own (no store method says). */
function catalogCount(site: Site): { n: number } {
  const db = new Database(join(site.dir, 'patchscan.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) AS n FROM catalogs').get() as { n: number };
  } finally {
    db.close();
  }
}

/** A catalog server: serves one file with ETag and Last-Modified, honours If-None-Match and Range + If-Range. */
class CatalogServer {
  server!: Server;
  url = '';
  body = Buffer.alloc(0);
  etag = '"v1"';
  requests: { range?: string; ifNoneMatch?: string; ifRange?: string; status: number }[] = [];
  /** Cut the connection after this many bytes on the next full response. */
  cutAfter: number | undefined;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const h = req.headers;
      const log = {
        ...(h.range ? { range: h.range } : {}),
        ...(h['if-none-match'] ? { ifNoneMatch: h['if-none-match'] } : {}),
        ...(h['if-range'] ? { ifRange: h['if-range'] as string } : {}),
        status: 0,
      };
      this.requests.push(log);
      const common = { etag: this.etag, 'last-modified': 'Tue, 24 Nov 2026 08:00:00 GMT' };
      if (h['if-none-match'] === this.etag) {
        log.status = 304;
        res.writeHead(304, common).end();
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(h.range ?? '');
      if (m && h['if-range'] === this.etag) {
        const from = Number(m[1]);
        log.status = 206;
        res.writeHead(206, {
          ...common,
          'content-length': String(this.body.length - from),
          'content-range': `bytes ${from}-${this.body.length - 1}/${this.body.length}`,
        });
        res.end(this.body.subarray(from));
        return;
      }
      log.status = 200;
      res.writeHead(200, { ...common, 'content-length': String(this.body.length) });
      if (this.cutAfter !== undefined) {
        const n = this.cutAfter;
        this.cutAfter = undefined;
        res.write(this.body.subarray(0, n), () => res.destroy());
        return;
      }
      res.end(this.body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/wsusscn2.cab`;
  }
}

describe('patchscan sync', () => {
  const dir = tempDir();
  const http = new CatalogServer();
  let second: string;

  beforeAll(async () => {
    await http.start();
    second = join(dir, 'second.cab');
    generateCatalog({ revisions: 400, seed: 9, out: second });
  });
  afterAll(() => new Promise<void>((r) => http.server.close(() => r())));

  it('from a folder: 6709 then 6710, the catalog is in service; the same cabinet again is unchanged and nothing is rewritten', async () => {
    const site = await newSite(join(dir, 'folder-site'));
    const folder = join(dir, 'drop');
    mkdirSync(folder);
    copyFileSync(BUNDLED, join(folder, 'wsusscn2.cab'));
    const r = await runSync(site, { source: folder });
    expect(r.outcome).toBe('updated');
    const cat = (await site.store.currentCatalog())!;
    expect(cat.revisions).toBe(3000);
    expect(cat.signer).toBeNull();
    const mtime = statSync(cat.path).mtimeMs;
    const again = await runSync(site, { source: folder });
    expect(again.outcome).toBe('unchanged');
    expect((await site.store.currentCatalog())!.id).toBe(cat.id);
    expect(statSync(cat.path).mtimeMs).toBe(mtime);
    expect(catalogCount(site)).toEqual({ n: 1 });
    expect((await messages(site)).map(([id]) => id)).toEqual([MSG_SYNC_STARTED, MSG_SYNC_DONE, MSG_SYNC_STARTED, MSG_SYNC_DONE]);
    expect((await messages(site))[3][1]).toMatch(
      /^SMS Legacy Update Synchronization done: the catalog is unchanged \(SHA-256 [0-9a-f]{64}\); nothing rewritten$/,
    );
    const log = readFileSync(join(site.logsDir, 'wsyncmgr.log'), 'utf8').trim().split('\n');
    expect(log[0]).toMatch(
      /^Message 6709: SMS Legacy Update Synchronization started; source .*drop {2}\$\$<SMS_LEGACY_UPDATE_SYNC><\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{3}\+000><thread=\d+ \(0x[0-9A-F]+\)>$/,
    );
    expect(log.some((l) => l.startsWith('Message 6710: SMS Legacy Update Synchronization done; catalog '))).toBe(true);
    await site.close();
  });

  it('from a URL: downloads, then a conditional GET answered 304 is unchanged; a new catalog behind the URL is swapped in', async () => {
    const site = await newSite(join(dir, 'http-site'));
    http.body = readFileSync(BUNDLED);
    http.requests = [];
    expect((await runSync(site, { source: http.url })).outcome).toBe('updated');
    const first = (await site.store.currentCatalog())!;
    expect((await runSync(site, { source: http.url })).outcome).toBe('unchanged');
    expect(http.requests.map((r) => r.status)).toEqual([200, 304]);
    expect(http.requests[1].ifNoneMatch).toBe('"v1"');
    expect((await messages(site)).at(-1)![1]).toContain('304 Not Modified');
    http.body = readFileSync(second);
    http.etag = '"v2"';
    const r = await runSync(site, { source: http.url });
    expect(r.outcome).toBe('updated');
    expect((await site.store.currentCatalog())!.id).not.toBe(first.id);
    expect((await site.store.currentCatalog())!.revisions).toBe(400);
    await site.close();
  });

  it('a broken download is resumed with Range and If-Range, and the result is the whole file', async () => {
    const site = await newSite(join(dir, 'resume-site'));
    http.body = readFileSync(second);
    http.etag = '"v3"';
    http.requests = [];
    const half = Math.floor(http.body.length / 2);
    http.cutAfter = half;
    const r = await runSync(site, { source: http.url });
    expect(r.outcome, r.message).toBe('updated');
    expect(http.requests.map((x) => x.status)).toEqual([200, 206]);
    expect(http.requests[1]).toMatchObject({ range: `bytes=${half}-`, ifRange: '"v3"' });
    expect(readFileSync(join(site.syncDir, 'wsusscn2.cab')).equals(http.body)).toBe(true);
    expect(readFileSync(join(site.logsDir, 'wsyncmgr.log'), 'utf8')).toMatch(/Download attempt 1 failed .*; retrying in 10 ms/);
    await site.close();
  });

  it('a corrupted cabinet fails with 6711 naming the cause; the last good catalog stays in service and still scans', async () => {
    const site = await newSite(join(dir, 'bad-site'));
    const folder = join(dir, 'drop-bad');
    mkdirSync(folder);
    copyFileSync(BUNDLED, join(folder, 'wsusscn2.cab'));
    await runSync(site, { source: folder });
    const good = (await site.store.currentCatalog())!;
    const bytes = readFileSync(BUNDLED);
    for (let i = 2000; i < bytes.length; i += 997) bytes[i] ^= 0x5a; // damage the compressed data
    writeFileSync(join(folder, 'wsusscn2.cab'), bytes);
    const r = await runSync(site, { source: folder });
    expect(r.outcome).toBe('failed');
    expect(r.error?.code).toMatch(/^(CAB_BAD_DATA|CAB_BAD_STRUCTURE|XML_MALFORMED|CATALOG_BAD_FORMAT)$/);
    const [id, text] = (await messages(site)).at(-1)!;
    expect(id).toBe(MSG_SYNC_FAILED);
    expect(text).toMatch(
      new RegExp(
        `^SMS Legacy Update Synchronization failed: ${r.error!.code}: .+ The last good ` +
          `catalog \\(${good.sha256.slice(0, 16)}\\) stays in service\\.$`,
      ),
    );
    expect((await site.store.currentCatalog())!.id).toBe(good.id);
    expect(readdirSync(site.catalogsDir)).toEqual([`${good.sha256.slice(0, 16)}.pscat`]); // no half-made catalog left
    expect(catalogCount(site)).toEqual({ n: 1 });
    // A truncated cabinet and a cabinet over the size cap fail the same way.
    writeFileSync(join(folder, 'wsusscn2.cab'), readFileSync(BUNDLED).subarray(0, 5000));
    expect((await runSync(site, { source: folder })).outcome).toBe('failed');
    // A file that is no cabinet at all: the error names the file given, not only the site's copy of it.
    const notCab = join(dir, 'not-a-cab.json');
    writeFileSync(notCab, '{"schema":"patchscan-inventory/1"}');
    const n = await runSync(site, { source: notCab });
    expect(n.outcome).toBe('failed');
    expect(n.message).toMatch(
      /^SMS Legacy Update Synchronization failed: CAB_BAD_HEADER: .*wsusscn2\.cab \(the copy of .*not-a-cab\.json\): not a cabinet file/,
    );
    const capped = await newSite(join(dir, 'cap-site'), { maxBytes: 10_000 });
    http.body = readFileSync(BUNDLED);
    http.etag = '"v4"';
    const c = await runSync(capped, { source: http.url });
    expect(c.outcome).toBe('failed');
    expect(c.message).toMatch(/more than the 10000 allowed \(sync\.maxBytes\)\. No catalog is in service yet\.$/);
    await capped.close();
    expect((await site.store.currentCatalog())!.id).toBe(good.id);
    // The last good catalog still loads and scans.
    const catalog = new Catalog(readCatalogFile((await site.store.currentCatalog())!.path));
    expect(new Scanner(catalog).scan(new FleetModel(catalog).machine(1, 0)).length).toBeGreaterThan(0);
    await site.close();
  });

  it('after a new catalog every stored inventory is rescanned, without any client sending anything again', async () => {
    const site = await newSite(join(dir, 'rescan-site'));
    const folder = join(dir, 'drop-rescan');
    mkdirSync(folder);
    copyFileSync(BUNDLED, join(folder, 'wsusscn2.cab'));
    await runSync(site, { source: folder });
    const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
    // The pilot computer uploads (stored directly: the upload path is the server test's business).
    const inv = { ...model.machine(5, 0), computer: { name: 'PILOT' }, processor: { architecture: 9 } };
    const client = await site.store.enroll('PILOT');
    expect(client).toMatch(/^pst_/);
    const id = (await site.store.client('PILOT'))!.id;
    await site.store.transaction(async (tx) => {
      await tx.addInventory(id, new Packr({ useRecords: false }).pack(inv), 'x64');
      await tx.enqueueScan(id, 'normal', 'upload');
    });
    const scanner = new ScanService(site);
    expect((await scanner.runQueue()).scanned).toBe(1);
    const firstScan = (await site.store.lastScan(id))!;
    copyFileSync(second, join(folder, 'wsusscn2.cab'));
    const lines: string[] = [];
    const r = await runSync(site, { source: folder, onLog: (l) => lines.push(l) });
    expect(r.rescans).toBe(1);
    // Before queueing, the sync made and stored the carry-over from the previous catalog (the scans read it).
    const carry = lines.filter((l) => l.startsWith('Carry-over: '));
    expect(carry).toEqual([
      expect.stringMatching(/^Carry-over: (prepared the carry-over|result sets of the previous catalog will be rescanned)/),
    ]);
    expect(lines.indexOf(carry[0])).toBeLessThan(lines.findIndex((l) => l.startsWith('Queued 1 client')));
    expect(await site.store.catalogCarryOver(firstScan.catalog_id, (await site.store.currentCatalog())!.id)).toBeInstanceOf(Uint8Array);
    expect((await site.store.queueStatus()).queued).toEqual({ expedited: 0, normal: 1 });
    expect((await scanner.runQueue()).scanned).toBe(1);
    const after = (await site.store.lastScan(id))!;
    expect(after.catalog_id).toBe((await site.store.currentCatalog())!.id);
    expect(after.catalog_id).not.toBe(firstScan.catalog_id);
    expect(await site.store.inventoryCount(id)).toBe(1);
    await site.close();
  });

  it('records the Authenticode signer and signing time of a signed cabinet (signed here with osslsigncode)', async () => {
    const work = join(dir, 'sign');
    mkdirSync(work);
    const signer = selfSignedCertificate(work, { subject: '/CN=Patchscan Test Signer/O=Patchscan', ip: null, days: 30 });
    const folder = join(dir, 'drop-signed');
    mkdirSync(folder);
    const before = Date.now();
    execFileSync(
      'osslsigncode',
      ['sign', '-certs', signer.cert, '-key', signer.key, '-n', 'wsusscn2', '-in', BUNDLED, '-out', join(folder, 'wsusscn2.cab')],
      { stdio: 'ignore' },
    );
    const sig = readAuthenticode(join(folder, 'wsusscn2.cab'));
    expect(sig).toMatchObject({ signed: true, signer: 'Patchscan Test Signer', certificates: 1 });
    if (sig.signed) expect(Math.abs(Date.parse(sig.signedAt!) - before)).toBeLessThan(120_000);
    const site = await newSite(join(dir, 'signed-site'));
    expect((await runSync(site, { source: folder })).outcome).toBe('updated');
    expect(await site.store.currentCatalog()).toMatchObject({ signer: 'Patchscan Test Signer' });
    expect(readFileSync(join(site.logsDir, 'wsyncmgr.log'), 'utf8')).toContain(
      'Authenticode signature: signer "Patchscan Test Signer", signed 20',
    );
    // A damaged signature blob is refused, not guessed at.
    expect(() => parseSignedData(Buffer.from([0x30, 0x82, 0x01]))).toThrow();
    const damaged = readFileSync(join(folder, 'wsusscn2.cab'));
    const off = damaged.readUInt32LE(44);
    damaged.fill(0xff, off, off + 40);
    writeFileSync(join(folder, 'wsusscn2.cab'), damaged);
    expect(() => readAuthenticode(join(folder, 'wsusscn2.cab'))).toThrow(/the Authenticode signature does not parse/);
    await site.close();
    expect(existsSync(BUNDLED)).toBe(true);
  });
});
