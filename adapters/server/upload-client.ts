/**
 * `patchscan upload`: the client side. Sends one inventory file (JSON or msgpack, gzip-compressed on the way) to
 * the site server with the client's token; the answer says whether it was accepted and queued.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { PatchscanError } from '../../engine/errors.js';
import { sniffFormat } from '../../engine/inventory/validate.js';

export interface UploadResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function upload(
  server: string,
  token: string,
  bytes: Uint8Array,
  opts: { expedited?: boolean; gzip?: boolean; timeoutMs?: number } = {},
): Promise<UploadResult> {
  let url: URL;
  try {
    url = new URL(`/v1/inventory${opts.expedited ? '?expedited=1' : ''}`, server);
  } catch {
    throw new PatchscanError('BAD_ARGUMENT', `--server ${JSON.stringify(server)} is not a URL (e.g. http://127.0.0.1:8530)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `--server ${JSON.stringify(server)}: give an http:// or https:// URL (e.g. http://127.0.0.1:8530)`,
    );
  const json = sniffFormat(bytes) !== 'msgpack';
  const body = opts.gzip === false ? bytes : gzipSync(bytes);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': json ? 'application/json' : 'application/msgpack',
        ...(opts.gzip === false ? {} : { 'content-encoding': 'gzip' }),
        'content-length': String(body.length),
      },
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url.host} in ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', (e) => reject(new PatchscanError('IO', `cannot reach ${url.origin}: ${e.message}`, { url: url.href }, { cause: e })));
    req.end(body);
  });
}
