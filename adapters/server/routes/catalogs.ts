/**
 * GET /v1/catalogs/<sha256>: the compiled catalog of a catalog version the site records, for a scan worker on
 * another machine (ITMU's distribution points), with the admin token. `<sha256>` is the catalog's (the cabinet's, as
 * `/healthz` and `patchscan catalog` name it). The bytes come from the file this server's site directory holds,
 * streamed, else from the copy in the site database (catalog-files.ts); `X-Patchscan-File-Sha256` (and the ETag) carry
 * the SHA-256 of the bytes, for the worker to check before it uses them; `If-None-Match` with that ETag gets a 304.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
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
  const file = await openIfPresent(row.path);
  if (file) {
    await sendFile(req, res, sha, file);
    return true;
  }
  // The database's copy comes in 1 MiB chunks read together; a server that serves workers often keeps the file.
  if (!(await ctx.store.catalogFileDigest(row.id)))
    throw new HttpError(
      404,
      'NOT_FOUND',
      `the compiled catalog ${sha.slice(0, 16)}… is neither in this server's site directory nor in the site database: run "patchscan sync"`,
    );
  const bytes = Buffer.concat(await ctx.store.catalogFileChunks(row.id));
  const digest = createHash('sha256').update(bytes).digest('hex');
  const body = writeHeaders(req, res, sha, digest, bytes.length) && req.method !== 'HEAD';
  res.end(body ? bytes : undefined);
  return true;
};

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Streams the opened file (a catalog file is written once, under a new name, and never changed: the handle holds one
 * version). The handle is closed on every path: after the headers of a HEAD or a 304, when the body has been sent, and
 * when the client goes away mid-download (pipeline destroys the stream, which closes it).
 */
async function sendFile(req: IncomingMessage, res: ServerResponse, sha: string, file: FileHandle): Promise<void> {
  let body;
  try {
    const st = await file.stat();
    const digest = await fileDigest(file, `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`);
    if (!writeHeaders(req, res, sha, digest, st.size) || req.method === 'HEAD') {
      res.end();
      return;
    }
    body = file.createReadStream({ start: 0 });
  } finally {
    if (!body) await file.close();
  }
  try {
    await pipeline(body, res);
  } catch {
    // Headers are out, nothing more to answer: the client went away mid-download, or a read failed and the client
    // sees a body shorter than Content-Length. Either way the stream (and the file) are closed by now.
    res.destroy();
  }
}

/** SHA-256 of a file's bytes by its identity (device, inode, size, mtime): each version is hashed once, streamed. */
const digests = new Map<string, Promise<string>>();
const DIGESTS_KEPT = 8;

function fileDigest(file: FileHandle, key: string): Promise<string> {
  let d = digests.get(key);
  if (!d) {
    if (digests.size >= DIGESTS_KEPT) digests.delete(digests.keys().next().value!);
    d = (async () => {
      const hash = createHash('sha256');
      for await (const chunk of file.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
      return hash.digest('hex');
    })();
    digests.set(key, d);
    d.catch(() => digests.delete(key));
  }
  return d;
}

/** Writes the headers: 200, or 304 (returns false, the caller ends) when the client already holds these bytes. */
function writeHeaders(req: IncomingMessage, res: ServerResponse, sha: string, digest: string, length: number): boolean {
  const etag = `"${digest}"`;
  const common = {
    'cache-control': 'private, max-age=31536000, immutable', // a catalog version never changes
    etag,
    'x-patchscan-file-sha256': digest,
  };
  const held = req.headers['if-none-match'];
  if (held !== undefined && (held.trim() === '*' || held.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
    res.writeHead(304, common);
    return false;
  }
  res.writeHead(200, {
    ...common,
    'content-type': 'application/octet-stream',
    'content-length': String(length),
    'content-disposition': `attachment; filename="${sha.slice(0, 16)}.pscat"`,
  });
  return true;
}
