/**
 * GET /v1/catalogs/<sha256> on a real `serve` (in-process, loopback) over a synced SQLite site: the compiled catalog
 * of a recorded catalog version, with the admin token only; the bytes are the site's file, or the copy in the site
 * database when this server's site directory lacks it, and the header names their SHA-256.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
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
});
