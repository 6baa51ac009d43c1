/**
 * `patchscan worker --catalog-from URL`: a scan worker on a machine that reaches the site database but shares no
 * disk with the syncing machine gets the compiled catalog of a catalog version from a site server —
 * `GET /v1/catalogs/<sha256>` with the admin token (routes/catalogs.ts) — instead of from the database's copy.
 *
 * The bytes are trusted only once their SHA-256 equals the one the site database recorded at sync (not the one the
 * server's header names: a server, a proxy or the network may be wrong; the database is what the site decided). A
 * copy that does not match is refused (COMPILED_BAD_FILE) and never cached; the worker tries again later. A verified
 * copy is kept in the cache directory as <file sha256>.pscat, written beside it first and renamed into place, so a
 * killed download never leaves a file that looks whole; a cached copy is checked again whenever it is loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PatchscanError } from '../../engine/errors.js';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import type { CatalogRow, SiteStore } from '../store/port.js';
import { pruneCatalogCache, touchCachedCopy, type CacheRetention, type CatalogSource } from './catalog-files.js';

/** A compiled catalog larger than this is not one (the 50,000-revision corpus compiles to tens of MiB). */
const MAX_BYTES = 4 * 1024 ** 3;
/** Download temporaries older than this were left by a killed process: removed before the next download. */
const STALE_TEMP_MS = 3_600_000;
const TEMP = /\.pscat\.download-[0-9a-z-]+\.tmp$/;

export interface HttpCatalogSourceOptions {
  /** The site server, e.g. https://site.example:8530 (a path prefix is kept: https://lb.example/patchscan/). */
  readonly server: URL;
  /** The site's admin token (never printed). */
  readonly token: string;
  /** Where verified copies are kept. */
  readonly cacheDir: string;
  /** With it, older cached copies are pruned after each catalog load (`worker --keep-catalogs`). */
  readonly retention?: CacheRetention;
  /** A download that receives no bytes for this long is given up (default 60 s). */
  readonly idleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** `--catalog-from`'s value as a base URL, or BAD_ARGUMENT naming what is wrong. */
export function catalogServerUrl(text: string, option = '--catalog-from'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `${option} ${JSON.stringify(text)} is not a URL: give the site server, e.g. https://site.example:8530`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PatchscanError('BAD_ARGUMENT', `${option} ${JSON.stringify(text)}: give an http:// or https:// URL of a "patchscan serve"`);
  if (url.username || url.password)
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `${option}: no credentials in the URL; the admin token goes in --token-file or $PATCHSCAN_ADMIN_TOKEN`,
    );
  if (url.search || url.hash)
    throw new PatchscanError('BAD_ARGUMENT', `${option} ${JSON.stringify(text)}: no query or fragment, only the server`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

export class HttpCatalogSource implements CatalogSource {
  private readonly log: (line: string) => void;

  constructor(
    private readonly store: SiteStore,
    private readonly o: HttpCatalogSourceOptions,
  ) {
    this.log = o.log ?? ((line) => process.stderr.write(`patchscan: ${line}\n`));
  }

  /** The server as messages name it (no path, never the token). */
  get origin(): string {
    return this.o.server.origin;
  }

  /** Whether the token crosses the network in clear (http:// to another host): worth a warning. */
  get cleartext(): boolean {
    return this.o.server.protocol === 'http:' && !isLoopback(this.o.server.hostname);
  }

  private url(sha256: string): URL {
    return new URL(`v1/catalogs/${sha256}`, this.o.server);
  }

  async file(row: CatalogRow): Promise<string> {
    const digest = await this.store.catalogFileDigest(row.id);
    const name = `${row.sha256.slice(0, 16)}…`;
    if (!digest)
      throw new PatchscanError(
        'NOT_FOUND',
        `the site database records no SHA-256 of catalog ${name}'s compiled file, so a ` +
          `copy from ${this.origin} could not be verified: --catalog-from needs a ` +
          `PostgreSQL site (its sync records it; run "patchscan sync" on the site)`,
      );
    const cached = join(this.o.cacheDir, `${digest}.pscat`);
    if (existsSync(cached)) {
      if (createHash('sha256').update(readFileSync(cached)).digest('hex') === digest) {
        touchCachedCopy(cached);
        return cached;
      }
      this.log(`the cached copy ${cached} does not match its SHA-256: fetching it again from ${this.origin}`);
      rmSync(cached, { force: true });
    }
    mkdirSync(this.o.cacheDir, { recursive: true });
    this.removeStaleTemporaries();
    const tmp = join(this.o.cacheDir, `${digest}.pscat.download-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    const url = this.url(row.sha256);
    const started = Date.now();
    try {
      const got = await this.download(url, tmp);
      if (got.digest !== digest)
        throw new PatchscanError(
          'COMPILED_BAD_FILE',
          `the compiled catalog ${name} sent by ${this.origin} does not match the SHA-256 ` +
            `the site database records (expected ${digest.slice(0, 16)}…, got ` +
            `${got.digest.slice(0, 16)}… over ${got.bytes} bytes): refused, not cached; it ` +
            `is fetched again`,
          { expected: digest, got: got.digest, bytes: got.bytes, server: this.origin },
        );
      renameSync(tmp, cached);
      syncDirectory(this.o.cacheDir);
      this.log(
        `catalog ${name} fetched from ${this.origin} (` +
          `${(got.bytes / 1048576).toFixed(1)} MiB in ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s), SHA-256 verified, cached as ${cached}`,
      );
      return cached;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async prune(inUse: string): Promise<void> {
    if (this.o.retention) await pruneCatalogCache(this.store, this.o.cacheDir, inUse, { log: this.log, ...this.o.retention });
  }

  /**
   * Asks the server whether it takes the token (a HEAD of catalog `sha256`, or of one no site has: the route checks
   * the token first). UNAUTHENTICATED when it refuses it; undefined when it takes it; the problem, as text, when the
   * server cannot be asked now (the worker starts anyway and fetches when it needs to).
   */
  async checkToken(sha256 = '0'.repeat(64)): Promise<string | undefined> {
    try {
      await new Promise<void>((resolve, reject) => {
        const req = this.request(this.url(sha256), 'HEAD', reject);
        req.on('response', (res) => {
          res.resume();
          if (res.statusCode === 401 || res.statusCode === 403) reject(this.refused(res.statusCode));
          else if (res.statusCode === 200 || res.statusCode === 404) resolve();
          else reject(new PatchscanError('IO', `${this.origin} answered ${res.statusCode} to a catalog request`));
        });
        req.end();
      });
      return undefined;
    } catch (e) {
      if (PatchscanError.is(e, 'UNAUTHENTICATED')) throw e;
      return (e as Error).message;
    }
  }

  private refused(status: number): PatchscanError {
    return new PatchscanError(
      'UNAUTHENTICATED',
      `${this.origin} refused the admin token (${status}): give the site's admin ` +
        `token in --token-file FILE or $PATCHSCAN_ADMIN_TOKEN ("patchscan admin-token ` +
        `reset" on the site issues a new one)`,
      { server: this.origin, status },
    );
  }

  private request(url: URL, method: 'GET' | 'HEAD', reject: (e: Error) => void): ReturnType<typeof httpRequest> {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers: { authorization: `Bearer ${this.o.token}`, accept: 'application/octet-stream' },
      agent: false, // a connection per request: catalogs are fetched rarely, no socket is kept open between them
    });
    const idle = this.o.idleTimeoutMs ?? 60_000;
    req.setTimeout(idle, () => req.destroy(new PatchscanError('IO', `${this.origin} sent nothing for ${idle} ms`)));
    req.on('error', (e) =>
      reject(
        PatchscanError.is(e) ? e : new PatchscanError('IO', `cannot fetch a catalog from ${this.origin}: ${e.message}`, {}, { cause: e }),
      ),
    );
    return req;
  }

  /** GETs `url` into `tmp` (flushed to disk), hashing on the way. */
  private download(url: URL, tmp: string): Promise<{ digest: string; bytes: number }> {
    return new Promise((resolve, reject) => {
      const req = this.request(url, 'GET', reject);
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          void this.failure(res).then(reject, reject);
          return;
        }
        const hash = createHash('sha256');
        let bytes = 0;
        const tally = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            if (bytes > MAX_BYTES)
              done(new PatchscanError('COMPILED_BAD_FILE', `${url.origin} sent more than ${MAX_BYTES} bytes for a catalog`));
            else {
              hash.update(chunk);
              done(null, chunk);
            }
          },
        });
        pipeline(res, tally, createWriteStream(tmp, { flags: 'wx' }))
          .then(() => {
            const fd = openSync(tmp, 'r+');
            try {
              fsyncSync(fd);
            } finally {
              closeSync(fd);
            }
            resolve({ digest: hash.digest('hex'), bytes });
          })
          .catch((e: unknown) => {
            req.destroy();
            reject(
              PatchscanError.is(e)
                ? e
                : new PatchscanError('IO', `fetching a catalog from ${this.origin}: ${(e as Error).message}`, {}, { cause: e }),
            );
          });
      });
      req.end();
    });
  }

  /** The error a non-200 answer means, with the server's own code and words (its body, read up to 64 KiB). */
  private async failure(res: IncomingMessage): Promise<PatchscanError> {
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) {
      res.resume();
      return this.refused(status);
    }
    let text = '';
    for await (const chunk of res as AsyncIterable<Buffer>) if (text.length < 65_536) text += chunk.toString('utf8');
    let said = text.slice(0, 300);
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e) said = `${e.code ?? ''}: ${e.message ?? ''}`;
    } catch {
      // not JSON: its first words
    }
    return new PatchscanError(status === 404 ? 'NOT_FOUND' : 'IO', `${this.origin} answered ${status} to a catalog request (${said})`, {
      server: this.origin,
      status,
    });
  }

  private removeStaleTemporaries(): void {
    for (const f of readdirSync(this.o.cacheDir)) {
      if (!TEMP.test(f)) continue;
      const path = join(this.o.cacheDir, f);
      try {
        if (Date.now() - statSync(path).mtimeMs > STALE_TEMP_MS) rmSync(path, { force: true });
      } catch {
        // gone meanwhile
      }
    }
  }
}
