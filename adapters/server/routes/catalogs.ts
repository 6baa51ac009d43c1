/**
 * GET /v1/catalogs/<sha256>: the compiled catalog of a catalog version the site records, for a scan worker on
 * another machine (ITMU's distribution points), with the admin token. `<sha256>` is the catalog's (the cabinet's, as
 * `/healthz` and `patchscan catalog` name it). The bytes come from the file this server's site directory holds,
 * else from the copy in the site database (catalog-files.ts); `X-Patchscan-File-Sha256` (and the ETag) carry the
 * SHA-256 of the bytes, for the worker to check before it uses them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { HttpError } from '../http.js';
import type { Route } from './context.js';

const PATH = /^\/v1\/catalogs\/([0-9a-f]{64})$/;

export const catalogRoutes: Route = async (ctx, req, res, url) => {
  const m = PATH.exec(url.pathname) ?? (url.pathname.startsWith('/v1/catalogs/') ? [] : null);
  if (!m) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} ${url.pathname}: only GET`);
  if (!(await ctx.isAdmin(req))) {
    throw new HttpError(401, 'UNAUTHENTICATED', 'a catalog download needs the admin token: "Authorization: Bearer <admin token>"', {
      'www-authenticate': 'Bearer',
    });
  }
  const sha = m[1];
  if (sha === undefined)
    throw new HttpError(
      400,
      'BAD_ARGUMENT',
      `not a catalog SHA-256 (64 lowercase hex digits): ${JSON.stringify(url.pathname.slice('/v1/catalogs/'.length).slice(0, 80))}`,
    );
  const row = await ctx.store.catalogBySha(sha);
  if (!row) throw new HttpError(404, 'NOT_FOUND', `no catalog ${sha.slice(0, 16)}… in this site (GET /healthz names the one in service)`);
  let bytes: Buffer;
  if (existsSync(row.path)) bytes = readFileSync(row.path);
  else if (await ctx.store.catalogFileDigest(row.id)) bytes = Buffer.concat(await ctx.store.catalogFileChunks(row.id));
  else
    throw new HttpError(
      404,
      'NOT_FOUND',
      `the compiled catalog ${sha.slice(0, 16)}… is neither in this server's site directory nor in the site database: run "patchscan sync"`,
    );
  const digest = createHash('sha256').update(bytes).digest('hex');
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(bytes.length),
    'cache-control': 'private, max-age=31536000, immutable', // a catalog version never changes
    etag: `"${digest}"`,
    'x-patchscan-file-sha256': digest,
    'content-disposition': `attachment; filename="${sha.slice(0, 16)}.pscat"`,
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
  return true;
};
