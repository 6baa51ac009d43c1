/**
 * Access and abuse: slow clients (slow-loris headers, a dripping body) are cut by the configured timeouts; tokens
 * appear in no log, no metric and not in the database (only their SHA-256); the default listener is loopback.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { startServe } from '../helpers/serve.js';
import { setUpSite } from '../helpers/site-setup.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

/**
 * Opens a raw connection, sends `head`, then (with `dripMs`) one byte every `dripMs`; resolves with ms until the server
 * closed it and what it answered.
 */
function drip(url: string, head: string, dripMs: number | undefined, maxMs: number): Promise<{ closedAfter: number; answer: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    let answer = '';
    const sock = connect(Number(port), hostname, () => sock.write(head));
    const timer =
      dripMs === undefined
        ? undefined
        : setInterval(() => {
            if (!sock.destroyed) sock.write('x');
          }, dripMs);
    const stop = setTimeout(() => sock.destroy(), maxMs);
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      clearTimeout(stop);
      resolve({ closedAfter: Date.now() - t0, answer });
    });
  });
}

/** A site served in this process on a loopback port for the describe it is called in, with `limits` over the defaults. */
function servedSite(limits: Partial<typeof DEFAULT_CONFIG.limits> = {}): { readonly url: () => string } {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  beforeAll(async () => {
    writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, ...limits } });
    site = await Site.open(dir);
    server = await serve(site, { scheduledSync: false, scanQueue: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });
  return { url: () => server.url };
}

describe('slow clients are cut by timeouts', () => {
  const server = servedSite({ headersTimeoutMs: 600, requestTimeoutMs: 1500 });

  it('headers that never finish (slow-loris) are cut after headersTimeoutMs', async () => {
    const r = await drip(server.url(), 'POST /v1/inventory HTTP/1.1\r\nHost: x\r\nX-Slow: ', 100, 10_000);
    expect(r.closedAfter).toBeLessThan(8_000); // cut by the server, not by drip's own 10 s (margin for a busy CI)
    expect(r.closedAfter).toBeGreaterThanOrEqual(500);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('a body that drips forever is cut after requestTimeoutMs', async () => {
    const r = await drip(
      server.url(),
      'POST /v1/inventory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Authorization: Bearer pst_x\r\nContent-Length: 100000\r\n\r\n',
      100,
      10_000,
    );
    expect(r.closedAfter).toBeLessThan(8_000); // cut by the server, not by drip's own 10 s
  });
});

describe('requests HTTP itself refuses get a JSON error that says why', () => {
  const server = servedSite();
  /** Sends `request` raw on a new connection; what came back before the server closed it. */
  const raw = async (request: string): Promise<string> => (await drip(server.url(), request, undefined, 10_000)).answer;

  const body = (answer: string): { error: { code: string; message: string } } => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it.each([
    [
      'a token read from a CRLF file (its "\\r" in the header)',
      'Authorization: Bearer pst_abc\r\r\n',
      400,
      'BAD_REQUEST',
      /CRLF line ends/,
    ],
    ['a control character in a header value', 'X-Note: a\u0001b\r\n', 400, 'BAD_REQUEST', /character HTTP does not allow/],
    ['headers past the size limit', `X-Big: ${'a'.repeat(20_000)}\r\n`, 431, 'TOO_LARGE', /headers are larger/],
  ])('%s', async (_name, header, status, code, message) => {
    const answer = await raw(`POST /v1/inventory HTTP/1.1\r\nHost: x\r\n${header}Content-Length: 0\r\n\r\n`);
    expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Request Header Fields Too Large'}`);
    expect(answer).toMatch(/\r\ncontent-type: application\/json\r\n/);
    const e = body(answer).error;
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('a request that is not HTTP at all', async () => {
    const answer = await raw('HELLO THERE\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(body(answer).error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/not valid HTTP\/1\.1/) });
  });

  it('the upload path with another method than POST is 405 naming POST, not 404', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await fetch(`${server.url()}/v1/inventory`, { method });
      expect({ method, status: r.status, allow: r.headers.get('allow') }).toEqual({ method, status: 405, allow: 'POST' });
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('a good request on the same server still works after them', async () => {
    const answer = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});

describe('tokens are never written out', () => {
  const dir = tempDir();
  it("not in the server's output, not in /metrics, not in the database — only their hashes", async () => {
    const data = join(dir, 'site');
    writeConfig(data, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
    const site = await Site.open(data);
    const admin = 'psa_secret-admin-token-for-the-test';
    await setUpSite(site, { testComputer: 'T', syncHost: 'S', admin });
    const inv = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as { computer: { name: string } };
    const token = await site.store.enroll(inv.computer.name);
    await site.close();
    expect(DEFAULT_CONFIG.listen.startsWith('127.0.0.1:')).toBe(true);

    const { child, url, output: logged } = await startServe(data);
    expect((await upload(url, token, Buffer.from(JSON.stringify(inv)))).status).toBe(202);
    expect((await upload(url, `${token}x`, Buffer.from(JSON.stringify(inv)))).status).toBe(401);
    expect((await upload(url, token, Buffer.from('{"broken":'))).status).toBe(400);
    await fetch(`${url}/v1/summary`, { headers: { authorization: `Bearer ${admin}` } });
    await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ token: admin }), redirect: 'manual' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    const output = logged();
    for (const secret of [token, admin]) {
      expect(output).not.toContain(secret);
      expect(metrics).not.toContain(secret);
      for (const f of ['patchscan.db', 'patchscan.db-wal']) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(join(data, f));
        } catch {
          continue;
        }
        expect(bytes.includes(Buffer.from(secret)), `${f} holds a token`).toBe(false);
      }
    }
    const check = await Site.open(data);
    expect((await check.store.client(inv.computer.name))!.token_hash).toBe(sha256Hex(token));
    await check.close();
  }, 30_000);
});
