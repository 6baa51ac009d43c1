/**
 * GET /v1/catalogs/<sha256> on a real `serve` (in-process, loopback) over a synced SQLite site: the compiled catalog
 * of a recorded catalog version, with the admin token only; the bytes are the site's file, or the copy in the site
 * database when this server's site directory lacks it, and the header names their SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { publishCatalogFile } from '../../adapters/site/catalog-files.js';
import type { Site } from '../../adapters/site/site.js';
import type { CatalogRow } from '../../adapters/store/port.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN = 'psa_catalog-download-admin';

describe('GET /v1/catalogs/<sha256>', () => {
  let site: Site;
  let server: RunningServer;
  let current: CatalogRow;
  let fileBytes: Buffer;

  beforeAll(async () => {
    ({ site } = await scannedSite(tempDir(), { clients: 0, admin: ADMIN }));
    current = (await site.store.currentCatalog())!;
    fileBytes = readFileSync(current.path);
    server = await serve(site, { scheduledSync: false });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await site?.close();
  });

  const get = (path: string, token?: string, method = 'GET'): Promise<Response> =>
    fetch(`${server.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it.each([
    ['no token', undefined, 401, 'UNAUTHENTICATED'],
    ['a wrong token', 'psa_not-the-admin', 401, 'UNAUTHENTICATED'],
  ])('refuses %s (401), before saying whether the catalog exists', async (_, token, status, code) => {
    for (const sha of [current?.sha256 ?? '', 'f'.repeat(64)]) {
      const r = await get(`/v1/catalogs/${sha}`, token);
      expect(r.status).toBe(status);
      expect(await r.json()).toMatchObject({ error: { code } });
    }
  });

  it.each([
    ['not hex', '/v1/catalogs/not-a-sha', 400, 'BAD_ARGUMENT'],
    ['upper case', `/v1/catalogs/${'A'.repeat(64)}`, 400, 'BAD_ARGUMENT'],
    ['unknown', `/v1/catalogs/${'0'.repeat(64)}`, 404, 'NOT_FOUND'],
  ])('answers a catalog that is %s with %i', async (_, path, status, code) => {
    const r = await get(path, ADMIN);
    expect(r.status).toBe(status);
    expect(await r.json()).toMatchObject({ error: { code } });
  });

  it('sends the compiled catalog in service, byte for byte, naming its SHA-256', async () => {
    const r = await get(`/v1/catalogs/${current.sha256}`, ADMIN);
    expect(r.status).toBe(200);
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.equals(fileBytes)).toBe(true);
    const digest = createHash('sha256').update(fileBytes).digest('hex');
    expect(r.headers.get('x-patchscan-file-sha256')).toBe(digest);
    expect(r.headers.get('etag')).toBe(`"${digest}"`);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const head = await get(`/v1/catalogs/${current.sha256}`, ADMIN, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(fileBytes.length));
  });

  it('without the file in this site directory, sends the copy the site database holds (and 404 when there is none)', async () => {
    const moved = `${current.path}.moved`;
    renameSync(current.path, moved);
    try {
      const missing = await get(`/v1/catalogs/${current.sha256}`, ADMIN);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringMatching(/patchscan sync/) } });
      await publishCatalogFile(site.store, current.id, moved);
      const r = await get(`/v1/catalogs/${current.sha256}`, ADMIN);
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(fileBytes)).toBe(true);
    } finally {
      renameSync(moved, current.path);
    }
  });

  it('answers If-None-Match with the ETag by 304 and no body, another ETag by the catalog', async () => {
    const etag = `"${createHash('sha256').update(fileBytes).digest('hex')}"`;
    for (const held of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const r = await fetch(`${server.url}/v1/catalogs/${current.sha256}`, {
        headers: { authorization: `Bearer ${ADMIN}`, 'if-none-match': held },
      });
      expect(r.status).toBe(304);
      expect(r.headers.get('etag')).toBe(etag);
      expect((await r.arrayBuffer()).byteLength).toBe(0);
    }
    const r = await fetch(`${server.url}/v1/catalogs/${current.sha256}`, {
      headers: { authorization: `Bearer ${ADMIN}`, 'if-none-match': '"other"' },
    });
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(fileBytes)).toBe(true);
  });

  describe('a catalog file far larger than the socket buffers (64 MiB in place of the real one)', () => {
    const BIG = 64 << 20;
    let big: Buffer;
    const moved = () => `${current.path}.real`;
    beforeAll(() => {
      big = randomBytes(BIG);
      renameSync(current.path, moved());
      writeFileSync(current.path, big);
    });
    afterAll(() => renameSync(moved(), current.path));

    /** Starts a download and resolves on its first chunk of body, the response paused there. */
    const firstChunk = (): Promise<IncomingMessage> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${server.url}/v1/catalogs/${current.sha256}`,
          { agent: false, headers: { authorization: `Bearer ${ADMIN}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            expect(res.headers['content-length']).toBe(String(BIG));
            res.once('data', () => {
              res.pause();
              resolve(res);
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const openFds = (): number => readdirSync('/proc/self/fd').length;

    it('streams it: four downloads held after their first chunk do not hold the file in memory', async () => {
      await firstChunk().then((r) => r.destroy()); // hashed once, outside the measure
      const before = process.memoryUsage().arrayBuffers;
      const held = await Promise.all([firstChunk(), firstChunk(), firstChunk(), firstChunk()]);
      await new Promise((r) => setTimeout(r, 300)); // let the server fill what it can
      const grown = process.memoryUsage().arrayBuffers - before;
      for (const r of held) r.destroy();
      // Read whole per request, each would hold 64 MiB (256 MiB in all) until the client reads it.
      expect(grown).toBeLessThan(32 << 20);
    });

    it('closes the file of every download the client abandons mid-way, and keeps serving', async () => {
      await firstChunk().then((r) => r.destroy());
      await new Promise((r) => setTimeout(r, 200));
      // A FileHandle left open is closed by the garbage collector, with a warning: a leak shows as fds or as warnings.
      const gcClosed: string[] = [];
      const onWarning = (w: Error): void => void (/file descriptor|FileHandle/i.test(w.message) && gcClosed.push(w.message));
      process.on('warning', onWarning);
      const before = openFds();
      try {
        for (let k = 0; k < 40; k++) (await firstChunk()).destroy();
        // Sockets close asynchronously: wait until the count settles (a leak keeps one fd per download: +40).
        let after = openFds();
        for (let t = 0; t < 50 && after > before + 2; t++) {
          await new Promise((r) => setTimeout(r, 100));
          after = openFds();
        }
        expect(after).toBeLessThanOrEqual(before + 2);
        await new Promise((r) => setTimeout(r, 100));
        expect(gcClosed).toEqual([]);
      } finally {
        process.off('warning', onWarning);
      }
      const r = await get(`/v1/catalogs/${current.sha256}`, ADMIN);
      expect(r.status).toBe(200);
      const body = Buffer.from(await r.arrayBuffer());
      expect(body.length).toBe(BIG);
      expect(r.headers.get('x-patchscan-file-sha256')).toBe(createHash('sha256').update(big).digest('hex'));
      expect(body.equals(big)).toBe(true);
    });
  });
});
