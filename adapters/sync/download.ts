/**
 * Downloading the catalog over HTTP(S): a conditional GET (If-None-Match / If-Modified-Since from the last
 * download), resume of a broken download (Range + If-Range into a `.partial` file), a size cap, an idle timeout,
 * and retries with exponential backoff for network errors and 5xx answers. The finished file replaces the old
 * one atomically.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PatchscanError } from '../../engine/errors.js';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import { dirname } from 'node:path';

export interface DownloadOptions {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  /** Validators of the copy we already have at `dest` (from the last download). */
  readonly etag?: string;
  readonly lastModified?: string;
  readonly log?: (line: string) => void;
  /**
   * Bytes of the catalog on disk so far (a resumed download starts at what it had) and the whole size (0 when the
   * server does not say), as they arrive; `attempt` counts from 1 (a retry that starts over starts from 0 again).
   */
  readonly onBytes?: (done: number, total: number, attempt: number) => void;
}

export type DownloadResult =
  | { readonly status: 'notModified' }
  | {
      readonly status: 'downloaded';
      readonly bytes: number;
      readonly etag?: string;
      readonly lastModified?: string;
      readonly resumed: boolean;
    };

class Retryable extends Error {}

interface PartialMeta {
  readonly url: string;
  readonly validator: string;
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers });
    req.setTimeout(timeoutMs, () => req.destroy(new Retryable(`no answer from ${url.host} for ${timeoutMs} ms`)));
    req.on('response', resolve);
    req.on('error', (e) => reject(e instanceof Retryable ? e : new Retryable(`${url.host}: ${e.message}`)));
    req.end();
  });
}

async function attempt(url: URL, dest: string, o: DownloadOptions, attemptNo: number): Promise<DownloadResult> {
  const partial = `${dest}.partial`;
  const metaPath = `${partial}.json`;
  const headers: Record<string, string> = { 'user-agent': 'patchscan-sync' };
  if (existsSync(dest)) {
    if (o.etag) headers['if-none-match'] = o.etag;
    if (o.lastModified) headers['if-modified-since'] = o.lastModified;
  }
  let have = 0;
  if (existsSync(partial) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as PartialMeta;
    if (meta.url === url.href && meta.validator) {
      have = statSync(partial).size;
      headers.range = `bytes=${have}-`;
      headers['if-range'] = meta.validator;
    }
  }
  const res = await get(url, headers, o.timeoutMs);
  const status = res.statusCode ?? 0;
  if (status === 304) {
    res.resume();
    return { status: 'notModified' };
  }
  if (status >= 500 || status === 408 || status === 429) {
    res.resume();
    throw new Retryable(`${url.href} answered ${status}`);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new PatchscanError('IO', `${url.href} answered ${status} ${res.statusMessage ?? ''}`.trim(), { url: url.href, status });
  }
  const etag = res.headers.etag;
  const lastModified = res.headers['last-modified'];
  let resumed = false;
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== have) {
      res.resume();
      rmSync(partial, { force: true });
      throw new Retryable(`${url.href} sent a range that does not continue the partial download; starting over`);
    }
    resumed = true;
  } else have = 0;
  const total = Number(res.headers['content-length'] ?? NaN) + have;
  if (total > o.maxBytes) {
    res.resume();
    throw new PatchscanError('IO', `${url.href} is ${total} bytes, more than the ${o.maxBytes} allowed (sync.maxBytes)`, { url: url.href });
  }
  writeFileSync(metaPath, JSON.stringify({ url: url.href, validator: etag ?? lastModified ?? '' } satisfies PartialMeta));
  const fd = openSync(partial, resumed ? 'a' : 'w');
  let bytes = have;
  const known = Number.isFinite(total) ? total : 0;
  o.onBytes?.(bytes, known, attemptNo);
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > o.maxBytes) {
          res.destroy(
            new PatchscanError('IO', `${url.href} sent more than the ${o.maxBytes} bytes allowed (sync.maxBytes)`, { url: url.href }),
          );
          return;
        }
        writeSync(fd, chunk);
        o.onBytes?.(bytes, known, attemptNo);
      });
      res.on('end', () => resolve());
      res.on('aborted', () => reject(new Retryable(`${url.href}: connection closed after ${bytes} bytes`)));
      res.on('error', (e) => reject(PatchscanError.is(e) ? e : new Retryable(`${url.href}: ${e.message} after ${bytes} bytes`)));
    });
    if (!res.complete) throw new Retryable(`${url.href}: connection closed after ${bytes} bytes`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (Number.isFinite(total) && bytes !== total) throw new Retryable(`${url.href}: got ${bytes} of ${total} bytes`);
  renameSync(partial, dest);
  rmSync(metaPath, { force: true });
  syncDirectory(dirname(dest));
  return { status: 'downloaded', bytes, resumed, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

export async function download(url: string, dest: string, o: DownloadOptions): Promise<DownloadResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PatchscanError('BAD_ARGUMENT', `sync source ${JSON.stringify(url)} is not a URL or a folder`);
  }
  for (let k = 0; ; k++) {
    try {
      return await attempt(u, dest, o, k + 1);
    } catch (e) {
      if (!(e instanceof Retryable) || k >= o.retries) {
        throw PatchscanError.is(e)
          ? e
          : new PatchscanError('IO', `download of ${url} failed after ${k + 1} attempt(s): ${(e as Error).message}`, { url }, { cause: e });
      }
      const wait = o.backoffMs * 2 ** k;
      o.log?.(`Download attempt ${k + 1} failed (${e.message}); retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
