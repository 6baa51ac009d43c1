/**
 * Hardening of the site server (issue 11): malformed paths and numbers are 400 (never a 500, never a crash), idle
 * connections are closed and their number bounded, a port in use ends `serve` at once, a full disk or another
 * process's write lock answers 503 while everything else keeps answering, invalid UTF-8 is refused, CSV exports are
 * safe to open in a spreadsheet, security headers on every answer (Secure cookie and HSTS over HTTPS), a computer
 * that is not scanned says why, and computer names meet by one key over HTTP.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../adapters/text/csv.js';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { DEFAULT_CONFIG, Site, writeConfig, type SiteConfig } from '../../adapters/site/site.js';
import { runSync } from '../../adapters/sync/sync.js';
import { invalidUtf8At } from '../../engine/inventory/utf8.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { setUpSite } from '../helpers/site-setup.js';
import { ILL_FORMED_UTF8, isUtf8, UTF8_PIECES } from '../helpers/utf8-samples.js';
import { BIN, startServe } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const ADMIN = 'psa_hardening-admin-token';
const INVENTORY = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as Record<string, unknown>;
/** The fixture inventory under another name (and architecture: 9 x64, 0 x86, 6 IA64, 12 ARM64, 5 ARM = none). */
const inventory = (name: string, architecture = 9): Buffer =>
  Buffer.from(JSON.stringify({ ...INVENTORY, computer: { name }, processor: { ...(INVENTORY.processor as object), architecture } }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A site with its objects, the admin token and `limits` over the defaults (uploads per minute unbounded). */
async function newSite(dir: string, limits: Record<string, number> = {}, more: Partial<SiteConfig> = {}): Promise<Site> {
  writeConfig(dir, {
    ...DEFAULT_CONFIG,
    listen: '127.0.0.1:0',
    ...more,
    limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 100_000, ...limits },
  });
  const site = await Site.open(dir);
  await setUpSite(site, { testComputer: 'PILOT-PC', syncHost: 'SYNC', admin: ADMIN });
  return site;
}

async function get(
  url: string,
  o: { token?: string; cookie?: string } = {},
): Promise<{ status: number; type: string; text: string; headers: Headers; json: any }> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.cookie) headers.cookie = o.cookie;
  const r = await fetch(url, { headers, redirect: 'manual' });
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  return { status: r.status, type, text, headers: r.headers, json: type.startsWith('application/json') ? JSON.parse(text) : undefined };
}

/** Signs in to the console; returns the session cookie. */
async function signIn(url: string): Promise<string> {
  const r = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ token: ADMIN }), redirect: 'manual' });
  expect(r.status).toBe(303);
  return /^(ps_session=[^;]+)/.exec(r.headers.get('set-cookie') ?? '')![1];
}

/** One request written by hand (for request targets fetch would refuse or rewrite); resolves with the answer. */
function raw(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const sock = connect(Number(port), hostname, () => sock.write(head));
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => resolve(answer));
    setTimeout(() => sock.destroy(), 5_000);
  });
}

describe("malformed paths and numbers are the client's mistake: 400 naming what is wrong, never a 500 or a crash", () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let cookie: string;
  const logged: string[] = [];
  beforeAll(async () => {
    site = await newSite(dir);
    server = await serve(site, { scheduledSync: false, scanQueue: false, log: (l) => logged.push(l) });
    cookie = await signIn(server.url);
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });

  it.each([
    ['/v1/computers/%ZZ/compliance', 'admin'],
    ['/v1/computers/%ZZ/compliance', 'none'],
    ['/v1/computers/PC%E9/compliance', 'none'], // a Latin-1 byte, not UTF-8
    ['/v1/updates/%ZZ', 'admin'],
    ['/v1/updates/%ZZ', 'none'],
    ['/v1/nothing/%', 'none'],
    ['/updates/%ZZ', 'console'],
    ['/updates/%ZZ', 'none'],
    ['/computers/%ZZ', 'console'],
    ['/computers/%ZZ', 'none'],
    ['/computers/%C0%AF', 'console'], // an overlong "/"
  ])('%s (%s): 400, before authentication', async (path, who) => {
    const r = await get(`${server.url}${path}`, who === 'admin' ? { token: ADMIN } : who === 'console' ? { cookie } : {});
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/not valid percent-encoding/);
  });

  it('a request target that is no URL at all (absolute-form "http://[") is 400 and the server stays up', async () => {
    const answer = await raw(server.url, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
  });

  it.each([
    ['/v1/reports/stale?days=1e10', 'days'],
    ['/v1/reports/stale?days=-1e10', 'days'],
    ['/v1/reports/stale?days=1.5', 'days'],
    ['/v1/reports/stale?days=-1', 'days'],
    ['/v1/reports/stale?days=0x10', 'days'],
    ['/v1/reports/stale?days=Infinity', 'days'],
    ['/v1/reports/trend?days=1e10', 'days'],
    ['/v1/reports/trend?days=0', 'days'],
    ['/v1/computers?offset=0.5', 'offset'],
    ['/v1/computers?offset=-3', 'offset'],
    ['/v1/computers?limit=2.5', 'limit'],
    ['/v1/computers?limit=1e3', 'limit'],
    ['/v1/computers?limit=100000', 'limit'],
    ['/v1/updates/KB5000001?offset=1.5', 'offset'],
    ['/v1/sync?limit=-1', 'limit'],
  ])('JSON API %s: 400 naming %s', async (path, name) => {
    const r = await get(`${server.url}${path}`, { token: ADMIN });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BAD_REQUEST');
    expect(r.json.error.message).toMatch(new RegExp(`^query parameter ${name}=".*" must be a whole number from `));
  });

  it.each([
    ['/stale?days=1e10', 'days'],
    ['/stale?days=-1e10', 'days'],
    ['/stale?days=1.5', 'days'],
    ['/stale?days=abc', 'days'],
    ['/stale?offset=0.5', 'offset'],
    ['/computers?offset=0.5', 'offset'],
    ['/computers?offset=-1', 'offset'],
    ['/computers?offset=1e10', 'offset'],
    ['/updates/KB5000001?offset=2.5', 'offset'],
  ])('console %s: 400 naming %s (an HTML page)', async (path, name) => {
    const r = await get(`${server.url}${path}`, { cookie });
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.text).toMatch(new RegExp(`query parameter ${name}=&#34;.*&#34; must be a whole number from `));
  });

  it('good numbers still work, and nothing above was logged as an internal error', async () => {
    expect((await get(`${server.url}/v1/reports/stale?days=30&limit=10&offset=0`, { token: ADMIN })).status).toBe(200);
    expect((await get(`${server.url}/stale?days=30&offset=50`, { cookie })).status).toBe(200);
    expect((await get(`${server.url}/computers?offset=0&q=PC`, { cookie })).status).toBe(200);
    expect(logged.filter((l) => /internal error|\n\s+at /.test(l))).toEqual([]);
  });
});

describe('connections that send nothing are closed, and their number is bounded', () => {
  const dir = tempDir();
  /** Opens `n` raw connections that never send a byte; `closed()` counts those the server has closed. */
  /** n connections that send nothing; each remembers how long it stayed open (ms from connect to close). */
  async function silent(url: string, n: number): Promise<{ closed: () => number; lifetimes: () => number[]; destroy: () => void }> {
    const { hostname, port } = new URL(url);
    const lifetimes: number[] = [];
    const socks = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            let openedAt = -1;
            const s = connect(Number(port), hostname, () => {
              openedAt = performance.now();
              resolve(s);
            });
            // Read (and drop) what the server sends before it closes: when Node's headersTimeout check comes before the
            // idle timeout, the server answers 408 and then closes, and a socket nobody reads keeps those bytes, never
            // emits 'end' nor 'close' (a CI run: 48 of 50 seen closed, the server holding none). As in the TLS case below.
            s.resume();
            s.on('error', () => resolve(s));
            s.on('close', () => lifetimes.push(openedAt < 0 ? -1 : performance.now() - openedAt));
          }),
      ),
    );
    return { closed: () => lifetimes.length, lifetimes: () => lifetimes, destroy: () => socks.forEach((s) => s.destroy()) };
  }

  it('50 connections that send nothing are closed by the server after headersTimeoutMs; a request on a new one is answered', async () => {
    const site = await newSite(join(dir, 'idle'), { headersTimeoutMs: 600, requestTimeoutMs: 1_500 });
    const server = await serve(site, { scheduledSync: false, scanQueue: false });
    // What the server was handed. (In one CI run 49 of 50 client sockets closed at ~610 ms and one never did, and in
    // another 48 of 50 with all 50 handed: clients that did not read the server's 408, fixed in silent().)
    let accepted = 0;
    server.server.on('connection', () => accepted++);
    const open = (): Promise<number> =>
      new Promise((resolve, reject) => server.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    try {
      const idle = await silent(server.url, 50);
      // Without the idle timeout they would stay open for ever; a busy machine only makes the server later, so wait
      // for the event with room to spare, and check the lower bound, which load cannot break.
      const t0 = Date.now();
      while ((idle.closed() < accepted || (await open()) > 0) && Date.now() - t0 < 30_000) await sleep(50);
      const lifetimes = `lifetimes ${JSON.stringify(idle.lifetimes().map(Math.round))}, accepted ${accepted}`;
      expect(accepted, lifetimes).toBeGreaterThanOrEqual(45);
      expect(await open(), lifetimes).toBe(0); // every connection the server had, it closed
      expect(idle.closed(), lifetimes).toBeGreaterThanOrEqual(accepted); // and each client saw it closed
      for (const ms of idle.lifetimes()) expect(ms).toBeGreaterThanOrEqual(550); // not before the time is up (timer slack)
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
      idle.destroy();
    } finally {
      await server.close();
      await site.close();
    }
  }, 60_000);

  it('a request that takes longer than headersTimeoutMs to answer is not cut (the idle timer ends with the first request)', async () => {
    const site = await newSite(join(dir, 'slow-answer'), { headersTimeoutMs: 600, requestTimeoutMs: 10_000 });
    const server = await serve(site, { scheduledSync: false, scanQueue: false });
    const token = await site.store.enroll('SLOW-PC');
    // Another connection holds the write lock for 1.5 s: the upload's answer waits for it, with no byte on the wire.
    const db = new Database(join(site.dir, 'patchscan.db'));
    db.exec('BEGIN IMMEDIATE');
    const release = setTimeout(() => db.exec('COMMIT'), 1_500);
    try {
      const r = await upload(server.url, token, inventory('SLOW-PC'));
      expect(r.status).toBe(202);
    } finally {
      clearTimeout(release);
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
      await server.close();
      await site.close();
    }
  });

  it('at most limits.maxConnections connections at once (default 10,000): one more is closed at once, and room frees up', async () => {
    // A long idle timeout, so that only the connection limit can close anything here, however busy the machine.
    const site = await newSite(join(dir, 'max'), { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, maxConnections: 5 });
    const server = await serve(site, { scheduledSync: false, scanQueue: false });
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) => server.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    try {
      expect(server.server.maxConnections).toBe(5);
      const five = await silent(server.url, 5);
      for (let i = 0; i < 400 && (await connections()) < 5; i++) await sleep(25);
      const sixth = await silent(server.url, 1);
      for (let i = 0; i < 800 && sixth.closed() < 1; i++) await sleep(25);
      expect(sixth.closed()).toBe(1);
      expect(five.closed()).toBe(0);
      five.destroy();
      for (let i = 0; i < 400 && (await connections()) > 0; i++) await sleep(25);
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await site.close();
    }
    const dflt = await newSite(join(dir, 'default'));
    const s2 = await serve(dflt, { scheduledSync: false, scanQueue: false });
    expect(s2.server.maxConnections).toBe(10_000);
    await s2.close();
    await dflt.close();
  }, 60_000);
});

describe('another process holds the SQLite write lock', () => {
  const dir = tempDir();
  it(
    'health, reports and console pages answer within 1 s all along; an upload gets ' +
      '503 STORE_UNAVAILABLE after the busy timeout, then 202 once the lock is gone',
    async () => {
      const site = await newSite(dir);
      expect((await runSync(site, { source: BUNDLED })).outcome).toBe('updated');
      await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
      const token = await site.store.enroll('LOCKED-PC');
      const logged: string[] = [];
      // The scan loop runs too: its polling writes (taking jobs) wait for the same lock.
      const server = await serve(site, { scheduledSync: false, log: (l) => logged.push(l) });
      const cookie = await signIn(server.url);
      const other = new Database(join(site.dir, 'patchscan.db'));
      try {
        other.exec('BEGIN IMMEDIATE'); // another process's writer, holding the lock
        const t0 = Date.now();
        const pending = upload(server.url, token, inventory('LOCKED-PC'), { timeoutMs: 20_000 }).then((r) => ({
          ...r,
          ms: Date.now() - t0,
        }));
        let settled = false;
        void pending.then(() => (settled = true));
        // While the upload waits for the lock, everything that only reads answers at once.
        const slowest: Record<string, number> = {};
        let rounds = 0;
        while (!settled && Date.now() - t0 < 15_000) {
          for (const [path, o] of [
            ['/healthz', {}],
            ['/metrics', {}],
            ['/v1/summary', { token: ADMIN }],
            ['/v1/computers?q=LOCKED', { token: ADMIN }],
            ['/v1/reports/stale?days=0', { token: ADMIN }],
            ['/', { cookie }],
            ['/computers', { cookie }],
          ] as const) {
            const t = Date.now();
            expect((await get(`${server.url}${path}`, o)).status, path).toBe(200);
            slowest[path] = Math.max(slowest[path] ?? 0, Date.now() - t);
          }
          rounds++;
          await sleep(100);
        }
        const r = await pending;
        expect(rounds).toBeGreaterThan(5); // the reads really ran while the upload waited
        // Well under the 4.5 s the upload waits: a read that waited for the lock would take that long (margin for a busy CI).
        for (const [path, ms] of Object.entries(slowest)) expect(ms, path).toBeLessThan(2_500);
        expect(r.status).toBe(503);
        expect((r.body.error as { code: string }).code).toBe('STORE_UNAVAILABLE');
        expect(r.ms).toBeGreaterThanOrEqual(4_500); // the driver's busy timeout (5 s) …
        expect(r.ms).toBeLessThan(7_500); // … not that plus the scan loop's own wait
        expect(await site.store.inventoryCount((await site.store.client('LOCKED-PC'))!.id)).toBe(0);
        other.exec('ROLLBACK');
        const again = await upload(server.url, token, inventory('LOCKED-PC'));
        expect(again.status).toBe(202);
        expect(logged.filter((l) => /internal error/.test(l))).toEqual([]);
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK');
        other.close();
        await server.close();
        await site.close();
      }
    },
    40_000,
  );
});

describe('a full disk (the site database cannot be written)', () => {
  const dir = tempDir();
  it.each(['a pipe', 'a file on the full disk'])(
    'the first upload that cannot be stored gets 503; the process stays up, keeps answering (503 or 202 to uploads, ' +
      '200 to health and reports), every upload it took (202) is stored, and it takes uploads again when space ' +
      'returns (its log goes to %s)',
    async (sink) => {
      const data = join(dir, sink.replaceAll(' ', '-'));
      const site = await newSite(data);
      const names = Array.from({ length: 400 }, (_, k) => `FULL-${k}`);
      const tokens: string[] = [];
      for (const n of names) tokens.push(await site.store.enroll(n));
      await site.close(); // checkpoints the WAL into the database file
      // Files of the server may grow ~300 KiB past the database's size: then writes fail with EFBIG, as on a full disk
      // (a soft limit, so that it can be lifted later).
      const kb = Math.ceil(readFileSync(join(data, 'patchscan.db')).length / 1024) + 300;
      let shell = `trap '' XFSZ; ulimit -S -f ${kb}`;
      if (sink !== 'a pipe') {
        // stderr (the server's log) is a file that is already full: every log line fails to be written.
        const logFile = join(data, 'serve.log');
        writeFileSync(logFile, Buffer.alloc(kb * 1024 + 10, 0x2e));
        shell += `; exec 2>>${logFile}`;
      }
      const { child, url, output } = await startServe(data, { shell });
      const taken: string[] = [];
      let refused = 0;
      try {
        let k = 0;
        let first: { status: number; body: Record<string, unknown> } | undefined;
        for (; k < names.length && !first; k++) {
          const r = await upload(url, tokens[k], inventory(names[k]), { gzip: false });
          if (r.status === 202) taken.push(names[k]);
          else first = r;
        }
        expect(first?.status).toBe(503);
        expect((first!.body.error as { code: string }).code).toBe('STORE_UNAVAILABLE');
        refused++;
        // Still up and answering. A further upload is refused the same way, or taken where the store found room
        // again: SQLite writes its WAL from the start once a checkpoint has copied it all into the database file
        // (a real full disk behaves the same: the WAL file's space is already the file's). Either way, nothing a
        // 202 answered is lost (checked below). The database file is capped too, so the room runs out for good:
        // uploads go on until three in a row are refused (so that the 202 below is space come back, not room found).
        let inARow = 0;
        for (; k < names.length - 20 && inARow < 3; k++) {
          const r = await upload(url, tokens[k], inventory(names[k]), { gzip: false });
          expect([202, 503]).toContain(r.status);
          if (r.status === 202) {
            taken.push(names[k]);
            inARow = 0;
          } else {
            expect((r.body.error as { code: string }).code).toBe('STORE_UNAVAILABLE');
            refused++;
            inARow++;
          }
          expect((await get(`${url}/healthz`)).status).toBe(200);
        }
        expect(inARow).toBe(3);
        expect((await get(`${url}/metrics`)).text).toMatch(new RegExp(`^patchscan_http_responses_total\\{code="503"\\} ${refused}$`, 'm'));
        expect((await get(`${url}/v1/summary`, { token: ADMIN })).status).toBe(200);
        await sleep(1_500); // the scan loop polls meanwhile; a failure there must not end the process either
        expect(child.exitCode).toBeNull();
        expect((await get(`${url}/healthz`)).status).toBe(200);
        // Space returns (the running process's file-size limit is lifted): uploads are taken again.
        execFileSync('prlimit', ['--pid', String(child.pid), '--fsize=unlimited']);
        let again = 0;
        for (let i = 0; i < 20 && again !== 202; i++, k++) {
          again = (await upload(url, tokens[k], inventory(names[k]), { gzip: false })).status;
          if (again === 202) taken.push(names[k]);
          else await sleep(200);
        }
        expect(again).toBe(202);
        expect(child.exitCode).toBeNull();
        expect(output()).not.toMatch(/Unhandled|internal error|uncaught/i);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      const after = await Site.open(data);
      try {
        // Every upload answered 202 is there; none refused is.
        const stored = new Set<string>();
        for (const id of await after.store.clientsWithInventory()) stored.add((await after.store.clientById(id))!.name);
        expect([...stored].sort()).toEqual([...taken].sort());
      } finally {
        await after.close();
      }
      const db = new Database(join(data, 'patchscan.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    },
    60_000,
  );
});

describe('a scheduled sync that cannot be started', () => {
  const dir = tempDir();
  it('is logged, and the server keeps serving', async () => {
    const site = await newSite(dir, {}, { sync: { ...DEFAULT_CONFIG.sync, source: join(dir, 'drop') } });
    const logged: string[] = [];
    const server = await serve(site, { scanQueue: false, syncCommand: [join(dir, 'no-such-program')], log: (l) => logged.push(l) });
    try {
      for (let i = 0; i < 100 && !logged.some((l) => /cannot start/.test(l)); i++) await sleep(20);
      expect(logged.find((l) => /cannot start/.test(l))).toMatch(/^scheduled sync: cannot start .*no-such-program: spawn .* ENOENT$/);
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await site.close();
    }
  });
});

describe('serve on a port in use', () => {
  const dir = tempDir();
  let taken: NetServer;
  let port: number;
  beforeAll(async () => {
    taken = createNetServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => taken.close(() => r())));

  it('exits with status 1 at once, saying the port is in use; nothing was started', async () => {
    const data = join(dir, 'site');
    const site = await newSite(data, {}, { sync: { ...DEFAULT_CONFIG.sync, source: join(dir, 'no-such-drop') } });
    await site.close();
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, 'serve', '--data', data, '--listen', `127.0.0.1:${port}`], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^patchscan: IO: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use \\(another process listens there`,
        'm',
      ),
    );
    expect(r.stdout).not.toMatch(/listening/);
    // Nothing ran before listen failed: the scheduled sync (due at start) left no trace.
    const check = await Site.open(data);
    expect(await check.store.syncMessages(10)).toEqual([]);
    await check.close();
  });

  it('a request target that is no URL does not end a serve process', async () => {
    const data = join(dir, 'site2');
    await (await newSite(data)).close();
    const { child, url } = await startServe(data);
    try {
      expect(await raw(url, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
      await sleep(200);
      expect(child.exitCode).toBeNull();
      expect((await get(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('invalid UTF-8 in a JSON upload', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let token: string;
  beforeAll(async () => {
    site = await newSite(dir);
    token = await site.store.enroll('UTF-PC');
    server = await serve(site, { scheduledSync: false, scanQueue: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });
  /** The inventory of UTF-PC with `bytes` in the middle of its domain name; and where they start. */
  const withBytes = (bytes: number[]): { body: Buffer; at: number } => {
    const text = Buffer.from(JSON.stringify({ ...INVENTORY, computer: { name: 'UTF-PC', domain: 'CORP-@@-X' } }));
    const at = text.indexOf('@@');
    return { body: Buffer.concat([text.subarray(0, at), Buffer.from(bytes), text.subarray(at + 2)]), at };
  };

  it.each(ILL_FORMED_UTF8)('%s: 400 naming the byte offset, nothing stored', async (_what, bytes, k) => {
    const { body, at } = withBytes(bytes);
    for (const gzip of [false, true]) {
      const r = await upload(server.url, token, body, { gzip });
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({
        code: 'INVENTORY_INVALID',
        message: `upload: not valid UTF-8 at byte ${at + k} (an inventory in JSON must be UTF-8)`,
      });
    }
    expect(await site.store.inventoryCount((await site.store.client('UTF-PC'))!.id)).toBe(0);
  });

  it('valid UTF-8 (a BOM, é, 𝔘, ＰＣ) is taken and stored as sent', async () => {
    const { body } = withBytes([...Buffer.from('é𝔘ＰＣ')]);
    const r = await upload(server.url, token, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), { gzip: false });
    expect(r.status).toBe(202);
  });
});

describe('invalidUtf8At agrees with a strict decoder', () => {
  it(
    'on 20,000 random byte strings: -1 exactly when TextDecoder({ fatal }) accepts; ' +
      'otherwise everything before the offset is UTF-8 and the bytes from it are not',
    () => {
      let seed = 7;
      const rnd = (n: number): number => (seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) % n;
      const pieces = UTF8_PIECES;
      for (let t = 0; t < 20_000; t++) {
        const b = Uint8Array.from(Array.from({ length: 1 + rnd(8) }, () => pieces[rnd(pieces.length)]).flat());
        const at = invalidUtf8At(b);
        expect(at === -1, Buffer.from(b).toString('hex')).toBe(isUtf8(b));
        if (at >= 0) {
          expect(isUtf8(b.subarray(0, at))).toBe(true);
          expect(isUtf8(b.subarray(at, at + 4))).toBe(false);
        }
      }
    },
  );
});

describe('CSV exports are safe to open in a spreadsheet', () => {
  it.each<[string, unknown, string]>([
    ['a formula', '=1+2', "'=1+2"],
    ['a plus', '+1', "'+1"],
    ['a minus in a string', '-1', "'-1"],
    ['an at sign', '@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['a leading tab', '\tcmd', "'\tcmd"],
    ['a leading CR (quoted as well)', '\r=1', `"'\r=1"`],
    ['a formula with quotes and commas', '=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['DDE', "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ['a negative number', -1, '-1'],
    ['a negative fraction', -0.5, '-0.5'],
    ['a negative bigint', -3n, '-3'],
    ['a plain string', 'KB5034441', 'KB5034441'],
    ['a sign inside', 'a=b, c-d', '"a=b, c-d"'],
    ['a leading space', ' =1', ' =1'],
    ['a boolean', true, 'true'],
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['a list whose first item is a formula', ['=a', 'b'], "'=a; b"],
    ['a line break inside', 'a\nb', '"a\nb"'],
  ])('%s: %s', (_what, value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it("toCsv neutralizes every row's cells, keeps numbers, and the JSON API's ?format=csv does the same", async () => {
    const cols = ['computer', 'required', 'title'] as const;
    expect(toCsv([{ computer: '=EVIL()', required: -1, title: '-x' }], cols)).toBe("computer,required,title\r\n'=EVIL(),-1,'-x\r\n");
    const dir = tempDir();
    const site = await newSite(dir);
    await site.store.enroll('@EVIL-PC');
    await site.store.enroll('+CALC');
    const server = await serve(site, { scheduledSync: false, scanQueue: false });
    try {
      const r = await get(`${server.url}/v1/computers?format=csv`, { token: ADMIN });
      expect(r.type).toBe('text/csv; charset=utf-8');
      const names = r.text
        .trim()
        .split('\r\n')
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort();
      expect(names).toEqual(["'+CALC", "'@EVIL-PC"]);
    } finally {
      await server.close();
      await site.close();
    }
  });
});

describe('security headers on every answer; over HTTPS a Secure session cookie and HSTS', () => {
  const dir = tempDir();
  let ca: Buffer;
  let tls: { key: string; cert: string };
  beforeAll(() => {
    tls = selfSignedCertificate(dir);
    ca = readFileSync(tls.cert);
  });

  type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };
  const httpsCall = (url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca, method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const httpCall = async (url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> => {
    const r = await fetch(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, body: o.body ?? null, redirect: 'manual' });
    return {
      status: r.status,
      headers: Object.fromEntries([...r.headers].map(([k, v]) => [k, k === 'set-cookie' ? r.headers.getSetCookie() : v])),
      body: await r.text(),
    };
  };

  it.each(['https', 'http'] as const)(
    '%s: JSON, CSV, text, HTML, redirects and errors all carry nosniff and no-referrer (HSTS and Secure only over HTTPS)',
    async (scheme) => {
      const site = await newSite(join(dir, scheme), {}, scheme === 'https' ? { tls } : {});
      await site.store.enroll('HEADER-PC');
      const server = await serve(site, { scheduledSync: false, scanQueue: false });
      const call = scheme === 'https' ? httpsCall : httpCall;
      try {
        expect(server.url.startsWith(`${scheme}://`)).toBe(true);
        const login = await call(`${server.url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `token=${ADMIN}`,
        });
        expect(login.status).toBe(303);
        const setCookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
        expect(setCookie).toHaveLength(1);
        expect(setCookie[0]).toMatch(/^ps_session=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+/);
        if (scheme === 'https') expect(setCookie[0]).toMatch(/; Secure(;|$)/);
        else expect(setCookie[0]).not.toMatch(/Secure/);
        const cookie = setCookie[0].split(';')[0];
        const auth = { authorization: `Bearer ${ADMIN}` };
        const answers: [string, Answer][] = [
          ['json', await call(`${server.url}/healthz`)],
          ['text', await call(`${server.url}/metrics`)],
          ['csv', await call(`${server.url}/v1/computers?format=csv`, { headers: auth })],
          ['html', await call(`${server.url}/`, { headers: { cookie } })],
          ['login page', await call(`${server.url}/login`)],
          ['redirect', await call(`${server.url}/computers`)],
          ['sign-in', login],
          ['401', await call(`${server.url}/v1/summary`)],
          ['404', await call(`${server.url}/v1/nothing`, { headers: auth })],
          ['400', await call(`${server.url}/v1/computers/%ZZ/compliance`)],
          ['console 400', await call(`${server.url}/stale?days=x`, { headers: { cookie } })],
          [
            'upload 415',
            await call(`${server.url}/v1/inventory`, {
              method: 'POST',
              headers: { authorization: 'Bearer pst_x', 'content-type': 'text/plain' },
              body: 'x',
            }),
          ],
        ];
        expect(answers.map(([, a]) => a.headers['content-type'] ?? '').filter((t) => t !== '').length).toBeGreaterThan(5);
        for (const [what, a] of answers) {
          expect(a.headers['x-content-type-options'], what).toBe('nosniff');
          expect(a.headers['referrer-policy'], what).toBe('no-referrer');
          if (scheme === 'https') expect(a.headers['strict-transport-security'], what).toBe('max-age=31536000');
          else expect(a.headers['strict-transport-security'], what).toBeUndefined();
        }
      } finally {
        await server.close();
        await site.close();
      }
    },
  );

  it(
    'over HTTPS, connections that never finish a handshake, or never send a request ' + 'after it, are closed after headersTimeoutMs',
    async () => {
      const site = await newSite(join(dir, 'idle-tls'), { headersTimeoutMs: 600 }, { tls });
      const server = await serve(site, { scheduledSync: false, scanQueue: false });
      const { port } = new URL(server.url);
      try {
        // Which connections the server accepted, and when (by the client's port): a failure says whether the server
        // ever had the connection it did not cut.
        const accepted = new Map<number, number>();
        server.server.on('connection', (raw: Socket) => accepted.set(raw.remotePort ?? -1, Date.now()));
        /**
         * How long after its TCP connection was made the server ended it (its first 'end', 'error' or 'close'), or
         * that this test had to end it. Times count from the TCP connection: on a loaded machine the kernel may
         * retransmit a SYN seconds later, and the server's cut starts when it accepts. The test ends a connection
         * 10 s after that, one turn of the event loop late: if a held loop let the server's cut and that timer fall
         * due together, the server's cut (already on the wire) is seen first.
         */
        type Ended = { ms: number; byTest: boolean; port: number; connectedAt: number; connectMs: number };
        const closedAfter = (open: () => ReturnType<typeof connect>): Promise<Ended> =>
          new Promise((resolve) => {
            const t0 = Date.now();
            const s = open();
            // Read (and drop) whatever the server sends before it closes: Node's HTTP server answers a connection
            // whose headersTimeout ran out with a 408 (51 bytes) and then closes it. A stream nobody reads keeps those
            // bytes buffered and never emits 'end', so the server's close went unseen (the socket in CLOSE-WAIT, the
            // server's side closed): about one TLS connection in a hundred, when the 408 check came before the cut.
            s.resume();
            let connectedAt = -1;
            let port = -1;
            let seen = false;
            const end = (byTest: boolean): void => {
              if (seen) return;
              seen = true;
              const now = Date.now();
              resolve({
                ms: connectedAt < 0 ? -1 : now - connectedAt,
                byTest,
                port,
                connectedAt,
                connectMs: connectedAt < 0 ? now - t0 : connectedAt - t0,
              });
              if (byTest) s.destroy();
            };
            const safety = (after: number): NodeJS.Timeout => setTimeout(() => setImmediate(() => end(true)), after);
            // Never connected at all within 30 s: ended by the test (a failure below).
            let timer = safety(30_000);
            s.once('connect', () => {
              connectedAt = Date.now();
              port = s.localPort ?? -1;
              clearTimeout(timer);
              timer = safety(10_000);
            });
            const cut = (): void => {
              clearTimeout(timer);
              end(false);
            };
            s.on('end', cut);
            s.on('error', cut);
            s.on('close', cut);
          });
        const { connect: tlsConnect } = await import('node:tls');
        // The server runs in this process: while its event loop is held up (a loaded CI machine once held it for
        // seconds), no timer of the server's can cut anything. The time bound allows for the longest hold measured
        // during the round, and the message says how long it was; a connection the server never cut fails whatever
        // the hold.
        const held = monitorEventLoopDelay({ resolution: 20 });
        held.enable();
        try {
          // Five rounds of 20: about one TLS connection in a hundred once stayed open after its handshake.
          for (let round = 0; round < 5; round++) {
            held.reset();
            const times = await Promise.all([
              ...Array.from({ length: 10 }, () => closedAfter(() => connect(Number(port), '127.0.0.1'))),
              ...Array.from({ length: 10 }, () => closedAfter(() => tlsConnect({ port: Number(port), host: '127.0.0.1', ca }))),
            ]);
            const heldMs = held.max / 1e6;
            for (const [k, { ms, byTest, port, connectedAt, connectMs }] of times.entries()) {
              const at = accepted.get(port);
              const seenByServer =
                at === undefined ? 'never accepted by the server' : `accepted by the server ${at - connectedAt} ms after`;
              const what =
                `round ${round}, ${k < 10 ? 'TCP only' : 'TLS'} connection ${k % 10} (TCP connected after ${connectMs} ms, ${seenByServer}), ` +
                `event loop held up to ${Math.round(heldMs)} ms`;
              expect(byTest, `${what}: still open 10 s after it connected, ended by the test`).toBe(false);
              expect(ms, what).toBeGreaterThanOrEqual(500);
              expect(ms, what).toBeLessThan(8_000 + heldMs); // margin for a busy CI
            }
          }
        } finally {
          held.disable();
        }
      } finally {
        await server.close();
        await site.close();
      }
    },
  );
});

describe('a computer that is not scanned says why: in the 202, in the compliance 404 and on its console page', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  let cookie: string;
  const tokens = new Map<string, string>();
  beforeAll(async () => {
    site = await newSite(dir);
    for (const n of ['EARLY-PC', 'SILENT-PC', 'PILOT-PC', 'X86-PC', 'ARM32-PC']) tokens.set(n, await site.store.enroll(n));
    // No scan worker in this process: a targeted upload stays queued.
    server = await serve(site, { scheduledSync: false, scanQueue: false });
    cookie = await signIn(server.url);
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });
  const compliance = async (name: string): Promise<{ status: number; message: string }> => {
    const r = await get(`${server.url}/v1/computers/${encodeURIComponent(name)}/compliance`, { token: ADMIN });
    return { status: r.status, message: r.json?.error?.message };
  };
  const page = async (name: string): Promise<{ status: number; why: string }> => {
    const r = await get(`${server.url}/computers/${encodeURIComponent(name)}`, { cookie });
    return { status: r.status, why: /<p data-testid="not-scanned"><b>Not scanned yet:<\/b> (.*)<\/p>/.exec(r.text)?.[1] ?? r.text };
  };

  it('before the first sync: the upload is taken, and everything says no catalog is in service — run patchscan sync', async () => {
    const r = await upload(server.url, tokens.get('EARLY-PC')!, inventory('EARLY-PC'));
    expect(r.status).toBe(202);
    expect(String(r.body.note)).toMatch(
      /no catalog is in service yet: run patchscan sync \(the inventory is kept and scanned after the first sync\)/,
    );
    const c = await compliance('EARLY-PC');
    expect(c.status).toBe(404);
    expect(c.message).toMatch(/^EARLY-PC has not been scanned yet: no catalog is in service yet: run patchscan sync/);
    const p = await page('EARLY-PC');
    expect(p.status).toBe(200);
    expect(p.why).toMatch(/^no catalog is in service yet: run patchscan sync/);
  });

  it('a computer that never uploaded: says so; a name nobody enrolled is a plain 404', async () => {
    expect((await compliance('SILENT-PC')).message).toBe(
      'SILENT-PC has not been scanned yet: it has not uploaded an inventory yet (patchscan upload, on the client)',
    );
    expect((await page('SILENT-PC')).why).toMatch(/^it has not uploaded an inventory yet/);
    expect(await compliance('NOBODY-PC')).toEqual({ status: 404, message: 'no computer named NOBODY-PC' });
    expect((await page('NOBODY-PC')).status).toBe(404);
  });

  it(
    'after the sync, while the main collection is limited to the pilot: not ' +
      'targeted, naming the architecture (or that it has no scan program)',
    async () => {
      expect((await runSync(site, { source: BUNDLED })).outcome).toBe('updated');
      // The in-process sync held the event loop for seconds: let the server close the keep-alive connections that
      // timed out meanwhile, before the client reuses one (a race of any keep-alive client, not of the server).
      await sleep(200);
      const x86 = await upload(server.url, tokens.get('X86-PC')!, inventory('X86-PC', 0));
      expect(x86.body).toMatchObject({ targeted: false });
      expect(x86.body.note).toBe(
        'no advertised collection targets this computer yet (architecture x86): the ' +
          'inventory is kept and scanned once a collection that advertises the x86 scan ' +
          'program includes it (patchscan collection unlimit, or add it as a member)',
      );
      expect((await compliance('X86-PC')).message).toBe(
        'X86-PC has not been scanned yet: no advertised collection targets it ' +
          '(architecture x86): the inventory is kept and scanned once a collection that ' +
          'advertises the x86 scan program includes it (patchscan collection unlimit, or ' +
          'add it as a member)',
      );
      expect((await page('X86-PC')).why).toMatch(/^no advertised collection targets it \(architecture x86\)/);
      // 32-bit ARM (5): no ITMU program scans it.
      const arm = await upload(server.url, tokens.get('ARM32-PC')!, inventory('ARM32-PC', 5));
      expect(arm.body.note).toMatch(
        /^no advertised collection targets this computer yet: its architecture \(other\) has no scan program \(x86, x64, IA64 and ARM64 have one\)/,
      );
      expect((await compliance('ARM32-PC')).message).toMatch(
        /^ARM32-PC has not been scanned yet: no advertised collection targets it: its architecture \(other\) has no scan program/,
      );
      // The early upload (x64, not the pilot) now waits for targeting, not for a catalog.
      expect((await compliance('EARLY-PC')).message).toMatch(
        /^EARLY-PC has not been scanned yet: no advertised collection targets it \(architecture x64\)/,
      );
    },
  );

  it('targeted, with a catalog: queued and waiting for a scan worker; the 202 has no note', async () => {
    const r = await upload(server.url, tokens.get('PILOT-PC')!, inventory('PILOT-PC'));
    expect(r.body).toMatchObject({ targeted: true, program: 'Microsoft Updates Tool x64' });
    expect(r.body.note).toBeUndefined();
    expect((await compliance('PILOT-PC')).message).toMatch(
      /^PILOT-PC has not been scanned yet: its inventory is queued for a scan \(\d+ waiting, 0 running; patchscan serve or patchscan worker runs them\)$/,
    );
    expect((await page('PILOT-PC')).why).toMatch(/^its inventory is queued for a scan/);
  });

  it("the console's computer list links only to pages that answer 200", async () => {
    const list = await get(`${server.url}/computers`, { cookie });
    const links = [...list.text.matchAll(/href="(\/computers\/[^"]+)"/g)].map((m) => m[1]);
    expect(links.length).toBe(5);
    for (const l of links) expect((await get(`${server.url}${l}`, { cookie })).status, l).toBe(200);
  });
});

describe('computer names meet by one key over HTTP (NFKC + case folding)', () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;
  beforeAll(async () => {
    site = await newSite(dir);
    expect((await runSync(site, { source: BUNDLED })).outcome).toBe('updated');
    await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
    server = await serve(site, { scheduledSync: false });
  });
  afterAll(async () => {
    await server.close();
    await site.close();
  });
  const read = async (name: string, token: string): Promise<number> =>
    (await get(`${server.url}/v1/computers/${encodeURIComponent(name)}/compliance`, { token })).status;
  /** Waits until the computer's compliance is served (the in-process scan worker has scanned it). */
  const scanned = async (name: string, token: string): Promise<number> => {
    await server.idle();
    return read(name, token);
  };

  it(
    '"PC-É" then "pc-é" is one client: the second enrollment replaces the token, ' +
      'the old one gets 401; either spelling (and NFD) uploads and reads; "PC-E" is ' +
      'another computer (403)',
    async () => {
      const first = await site.store.enroll('PC-É');
      const second = await site.store.enroll('pc-é');
      expect((await site.store.clients()).filter((c) => /^pc-[eé]/i.test(c.name)).map((c) => c.name)).toEqual(['PC-É']);
      const old = await upload(server.url, first, inventory('PC-É'));
      expect(old.status).toBe(401);
      expect((await get(`${server.url}/v1/computers/PC-%C3%89/compliance`, { token: first })).status).toBe(401);
      // The current token speaks for every spelling of the same computer.
      const lower = await upload(server.url, second, inventory('pc-é'));
      expect(lower.status).toBe(202);
      expect(lower.body.computer).toBe('PC-É');
      expect((await upload(server.url, second, inventory('PC-E\u0301'))).status).toBe(202); // NFD: E + combining acute
      expect(await scanned('pc-é', second)).toBe(200);
      expect((await get(`${server.url}/v1/computers/pc-%C3%A9/compliance`, { token: second })).json.computer).toBe('PC-É');
      expect(await read('PC-É', second)).toBe(200);
      expect((await get(`${server.url}/v1/computers/PC-E%CC%81/compliance`, { token: second })).status).toBe(200);
      // Plain E is a different computer: its token reads and uploads only for itself.
      const plain = await site.store.enroll('PC-E');
      expect(await read('PC-É', plain)).toBe(403);
      expect(await read('pc-é', plain)).toBe(403);
      const other = await upload(server.url, plain, inventory('PC-É'));
      expect(other.status).toBe(403);
      expect((other.body.error as { message: string }).message).toBe('this token belongs to PC-E; it cannot upload the inventory of PC-É');
      expect((await upload(server.url, second, inventory('PC-E'))).status).toBe(403);
      expect(await site.store.inventoryCount((await site.store.client('PC-E'))!.id)).toBe(0);
    },
    30_000,
  );

  it.each([
    ['straße-pc', 'STRASSE-PC', 'STRASE-PC'],
    ['PC-DIYARBAKIR', 'pc-dıyarbakır', 'PC-DİYARBAKIR'], // dotless ı meets I (as Windows' upper-casing does); dotted İ is another letter
    ['ＰＣ-１', 'PC-1', 'PC-11'],
  ])(
    '"%s" and "%s" are one computer; "%s" is another',
    async (a, b, different) => {
      await site.store.enroll(a);
      const token = await site.store.enroll(b); // replaces a's token
      expect((await site.store.client(a))!.id).toBe((await site.store.client(b))!.id);
      expect((await site.store.client(b))!.name).toBe(a);
      for (const spelling of [a, b]) expect((await upload(server.url, token, inventory(spelling))).status, spelling).toBe(202);
      expect(await scanned(b, token)).toBe(200);
      expect(await read(a, token)).toBe(200);
      const otherToken = await site.store.enroll(different);
      expect((await site.store.client(different))!.id).not.toBe((await site.store.client(a))!.id);
      expect(await read(a, otherToken)).toBe(403);
      expect(await read(different, token)).toBe(403);
      expect((await upload(server.url, otherToken, inventory(b))).status).toBe(403);
    },
    30_000,
  );
});

describe("the site's retention limits reach the upload path", () => {
  const dir = tempDir();
  it(
    'limits.inventoriesPerClient 2: after four uploads over HTTP two inventories ' +
      'are kept; storedBytesPerClient below one inventory: 413',
    async () => {
      const site = await newSite(dir, { inventoriesPerClient: 2 });
      const token = await site.store.enroll('KEEP-PC');
      const server = await serve(site, { scheduledSync: false, scanQueue: false });
      try {
        for (let i = 0; i < 4; i++) expect((await upload(server.url, token, inventory('KEEP-PC'))).status).toBe(202);
        expect(await site.store.inventoryCount((await site.store.client('KEEP-PC'))!.id)).toBe(2);
      } finally {
        await server.close();
        await site.close();
      }
      const tight = await newSite(join(dir, 'tight'), { storedBytesPerClient: 100 });
      const t2 = await tight.store.enroll('BIG-PC');
      const s2 = await serve(tight, { scheduledSync: false, scanQueue: false });
      try {
        const r = await upload(s2.url, t2, inventory('BIG-PC'));
        expect(r.status).toBe(413);
        expect((r.body.error as { message: string }).message).toMatch(/limits\.storedBytesPerClient/);
      } finally {
        await s2.close();
        await tight.close();
      }
    },
  );
});

describe('what the server says in its log about the network', () => {
  it('a client that hangs up mid-upload is one "went away" line: no stack, no internal error', async () => {
    const dir = tempDir();
    const site = await newSite(dir);
    const logged: string[] = [];
    const server = await serve(site, { scheduledSync: false, scanQueue: false, log: (l) => logged.push(l) });
    try {
      const token = await site.store.enroll('GONE-PC');
      const { port } = new URL(server.url);
      const s = connect(Number(port), '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write(
        `POST /v1/inventory HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"schema":`,
      );
      await sleep(200);
      s.destroy();
      for (let k = 0; k < 50 && !logged.some((l) => l.includes('went away')); k++) await sleep(50);
      expect(logged.filter((l) => l.includes('went away'))).toEqual(['client went away during POST "/v1/inventory": aborted']);
      expect(logged.some((l) => l.includes('internal error'))).toBe(false);
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await site.close();
    }
  });

  it('listening off the loopback interface over plain HTTP is warned about; on loopback it is not', async () => {
    const dir = tempDir();
    const site = await newSite(dir);
    const logged: string[] = [];
    const open = await serve(site, { listen: '0.0.0.0:0', scheduledSync: false, scanQueue: false, log: (l) => logged.push(l) });
    await open.close();
    expect(logged.filter((l) => l.startsWith('warning:'))).toEqual([
      expect.stringMatching(/^warning: listening on 0\.0\.0\.0 over plain HTTP: client and admin tokens cross the network/),
    ]);
    logged.length = 0;
    const loop = await serve(site, { scheduledSync: false, scanQueue: false, log: (l) => logged.push(l) });
    await loop.close();
    await site.close();
    expect(logged.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });
});
