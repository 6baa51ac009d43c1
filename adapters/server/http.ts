/**
 * HTTP plumbing the routes share: errors with a status and a stable code, JSON answers, bounded bodies, gzip with
 * a size cap, bearer tokens, and parameters that are refused with 400 naming them instead of failing deeper down.
 */
import { acceptedChoices, matchChoice } from '../text/choice.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * The answer to a request Node's HTTP parser refused before any route saw it (the server's `clientError`): the status
 * Node itself gives (431 headers too large, 413 chunk extensions too large, 408 too slow, else 400), but with the
 * JSON error body every other answer has, and a message that says what was wrong — Node's own is a bare status line.
 * The common case is a token read from a file with CRLF line ends (`tokens.csv`, a Windows text file): its "\r" ends
 * up in the Authorization header, which HTTP does not allow.
 */
export function unparsedRequestAnswer(parserCode: string | undefined): string {
  const [status, reason, code, message]: [number, string, string, string] =
    parserCode === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'TOO_LARGE', 'the request headers are larger than this server takes']
      : parserCode === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? [413, 'Payload Too Large', 'TOO_LARGE', 'the chunk extensions of the request body are too large']
        : parserCode === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request did not arrive in time (limits.headersTimeoutMs, requestTimeoutMs)']
          : parserCode === 'HPE_LF_EXPECTED' || parserCode === 'HPE_INVALID_HEADER_TOKEN' || parserCode === 'HPE_CR_EXPECTED'
            ? [
                400,
                'Bad Request',
                'BAD_REQUEST',
                'a request header holds a character HTTP does not allow (a carriage return or a control character); a token ' +
                  'read from a file with CRLF line ends (tokens.csv) keeps its "\\r": strip it (tr -d \'\\r\')',
              ]
            : [400, 'Bad Request', 'BAD_REQUEST', `the request is not valid HTTP/1.1 (${parserCode ?? 'unreadable'})`];
  const body = `${JSON.stringify({ error: { code, message } })}\n`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/** Reads a body up to `max` bytes; 413 as soon as it is known to be larger. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max)
    return Promise.reject(new HttpError(413, 'TOO_LARGE', `the body is ${declared} bytes; the limit is ${max} (limits.maxUploadBytes)`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new HttpError(413, 'TOO_LARGE', `the body is more than ${max} bytes (limits.maxUploadBytes)`));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, n)));
    req.on('error', reject);
  });
}

export function inflate(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (e, out) => {
      if (!e) resolve(out);
      else if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
        reject(new HttpError(413, 'TOO_LARGE', `the inventory inflates past ${max} bytes (limits.maxInventoryBytes)`));
      else reject(new HttpError(400, 'BAD_ENCODING', `the body is not valid gzip: ${e.message}`));
    });
  });
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/**
 * The request's URL. A request target that is no URL (`GET http://[ HTTP/1.1` reaches the handler) or a path that is
 * not valid percent-encoding is the client's mistake: 400, checked before routing and authentication, so no route
 * (and no page behind a sign-in) ever meets one.
 */
export function requestUrl(req: IncomingMessage): URL {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://patchscan');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `the request target is not a URL: ${JSON.stringify((req.url ?? '').slice(0, 80))}`);
  }
  pathParam(url.pathname, 'request path');
  return url;
}

/** A percent-encoded path segment, decoded; malformed encoding is the client's mistake (400), not ours (500). */
export function pathParam(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `the ${what}${what === 'request path' ? '' : ' in the path'} is not valid percent-encoding: ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
}

/** An integer query parameter within [min, max], or `fallback` when absent; anything else is 400 naming it. */
export function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const n = /^-?\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `query parameter ${name}=${JSON.stringify(raw.slice(0, 40))} must be a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/** A query parameter naming one of `names` (any case: ?state=required), or undefined when absent; else 400 listing them. */
export function choiceParam<T extends string>(q: URLSearchParams, name: string, names: readonly T[]): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const hit = matchChoice(names, raw);
  if (hit === undefined)
    throw new HttpError(400, 'BAD_REQUEST', `query parameter ${name}=${JSON.stringify(raw.slice(0, 40))}: ${acceptedChoices(names)}`);
  return hit;
}

/** Counts per minute per client, for 429s. */
export class RateLimiter {
  private readonly windows = new Map<number, { start: number; count: number }>();
  constructor(private readonly perMinute: number) {}
  take(id: number): number | undefined {
    const t = Date.now();
    const w = this.windows.get(id);
    if (!w || t - w.start >= 60_000) {
      this.windows.set(id, { start: t, count: 1 });
      if (this.windows.size > 100_000) this.windows.clear();
      return undefined;
    }
    if (w.count >= this.perMinute) return Math.ceil((w.start + 60_000 - t) / 1000);
    w.count++;
    return undefined;
  }
}
