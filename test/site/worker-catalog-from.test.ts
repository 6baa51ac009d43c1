/**
 * `patchscan worker --catalog-from URL`, tried as a user would: a real `serve` on one site directory and a real
 * `worker` on another, sharing nothing but the PostgreSQL database, the worker getting its catalogs over HTTP
 * through a TCP proxy the test controls. A wrong token is a clear error at start (exit 2, the token never printed);
 * a response with one byte flipped on the way is refused (COMPILED_BAD_FILE), never cached or scanned with, and the
 * worker tries again until a good copy comes; a second sync in the middle of the uploads makes the worker fetch the
 * new catalog and switch to it between batches; every stored result names the catalog it was scanned with and
 * equals the engine's answer for that catalog.
 *
 * Runs the built CLI (dist/adapters/cli/bin.js: `npm run build` first) against test/helpers/postgres.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../../adapters/server/upload-client.js';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { BIN } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const MACHINES = 16;

const children = new Set<ChildProcess>();

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      r({ code, signal });
    }),
  );
  return { child, output: () => out, exited };
}

async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const p = start(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 120_000);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, out: p.output() };
}

async function ok(args: readonly string[]): Promise<string> {
  const r = await run(args);
  expect(r.code, `patchscan ${args.join(' ')}\n${r.out}`).toBe(0);
  return r.out;
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, state?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${state ? `\n${state()}` : ''}`);
    await sleep(100);
  }
}

/**
 * A TCP proxy in front of `serve`: passes bytes both ways; while `tamper` is on, flips one byte 3,000 bytes into
 * each answer (past the headers, inside a catalog's body) and counts the answers it damaged.
 */
class TamperingProxy {
  tamper = false;
  damaged = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  async listen(target: number): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      let seen = 0;
      client.on('data', (c: Buffer) => upstream.write(c));
      upstream.on('data', (c: Buffer) => {
        const at = 3_000 - seen;
        if (this.tamper && at >= 0 && at < c.length) {
          c = Buffer.from(c);
          c[at] = c[at] ^ 0x01;
          this.damaged++;
        }
        seen += c.length;
        client.write(c);
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('patchscan worker --catalog-from (serve and worker on separate site directories, one PostgreSQL)', () => {
  const dir = tempDir('patchscan-catalog-from-');
  const A = join(dir, 'A'); // the syncing machine: `serve` runs here
  const B = join(dir, 'B'); // the scanning machine: its own site directory and cache, the same database
  const cache = join(dir, 'B-cache');
  const proxy = new TamperingProxy();
  let db: TestDatabase;
  let store: SiteStore | undefined;
  let admin = '';
  let serve: Proc | undefined;
  let serverUrl = '';
  const names = Array.from({ length: MACHINES }, (_, k) => `PC-${String(k).padStart(7, '0')}`);
  const tokens: string[] = [];
  let inventories: Inventory[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const init = await ok(['init', '--data', A, '--database', db.url, '--test-computer', names[0]]);
    admin = /\n {2}(psa_\S+)\n/.exec(init)![1];
    await ok(['sync', '--data', A, '--source', BUNDLED]);
    await ok(['collection', 'unlimit', 'Microsoft Updates Tool', '--data', A]);
    await ok(['init', '--data', B, '--database', db.url]);
    store = await openPostgresStore(db.url);
    for (const name of names) tokens.push(await store.enroll(name));
    const model = new FleetModel(new Catalog(readCatalogFile((await store.currentCatalog())!.path)));
    inventories = names.map((_, k) => model.machine(3, k));
    serve = start(['serve', '--data', A, '--no-scan', '--listen', '127.0.0.1:0']);
    serverUrl = await waitFor('serve listens', 30_000, async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serve!.output())?.[1]);
    await proxy.listen(Number(new URL(serverUrl).port));
  }, 180_000);

  afterAll(async () => {
    for (const c of [...children]) c.kill('SIGKILL');
    await proxy.close();
    await store?.close().catch(() => undefined);
    await db?.drop();
  });

  const via = (): string => `http://127.0.0.1:${proxy.port}`;
  const tokenFile = (name: string, token: string): string => {
    const f = join(dir, name);
    writeFileSync(f, `${token}\n`, { mode: 0o600 });
    return f;
  };
  const uploadAll = async (ks: readonly number[]): Promise<void> => {
    for (const k of ks) {
      const r = await upload(serverUrl, tokens[k], Buffer.from(JSON.stringify(inventories[k])));
      expect(r.status, JSON.stringify(r.body)).toBe(202);
    }
  };
  /** The engine's answer for `inv` with `catalog`, as the store keeps it (NotApplicable left out). */
  const expected = (catalog: Catalog, inv: Inventory): string[] =>
    new Scanner(catalog)
      .scan(inv)
      .filter((d) => d.state !== 'NotApplicable')
      .map((d) => `${d.updateId} ${d.state}`)
      .sort();

  it('a wrong token, a missing one, or a bad URL: a clear error at start, exit 2, the token never printed', async () => {
    const wrong = 'psa_this-is-not-the-admin-token';
    const r = await run(['worker', '--data', B, '--catalog-from', via(), '--token-file', tokenFile('wrong-token', wrong), '--once']);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/UNAUTHENTICATED: http:\/\/127\.0\.0\.1:\d+ refused the admin token \(401\)/);
    expect(r.out).not.toContain(wrong);
    expect(r.out).not.toContain('taking scan jobs');

    const viaEnv = await run(['worker', '--data', B, '--catalog-from', via(), '--once'], { PATCHSCAN_ADMIN_TOKEN: wrong });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.out).toContain('UNAUTHENTICATED');
    expect(viaEnv.out).not.toContain(wrong);

    const none = await run(['worker', '--data', B, '--catalog-from', via(), '--once'], { PATCHSCAN_ADMIN_TOKEN: '' });
    expect(none.code).toBe(2);
    expect(none.out).toMatch(/BAD_ARGUMENT: --catalog-from needs the site's admin token/);

    const badUrl = await run(['worker', '--data', B, '--catalog-from', 'ftp://x', '--once'], { PATCHSCAN_ADMIN_TOKEN: admin });
    expect(badUrl.code).toBe(2);
    expect(badUrl.out).toMatch(/BAD_ARGUMENT: --catalog-from "ftp:\/\/x": give an http:\/\/ or https:\/\/ URL/);
    expect(badUrl.out).not.toContain(admin);
  }, 60_000);

  it(
    'a damaged answer is refused and never used; a good one is verified, cached and ' +
      'scanned with; a second sync mid-run is switched to between batches',
    async () => {
      const catalog1 = (await store!.currentCatalog())!;
      const file1 = readFileSync(catalog1.path);
      const digest1 = (await store!.catalogFileDigest(catalog1.id))!;
      expect(digest1).toBe(sha256(file1));

      proxy.tamper = true;
      const worker = start([
        'worker',
        '--data',
        B,
        '--catalog-from',
        via(),
        '--token-file',
        tokenFile('admin-token', admin),
        '--cache',
        cache,
        '--batch',
        '4',
        '--idle-ms',
        '100',
        '--threads',
        '1',
        '--keep-catalogs',
        '1',
      ]);
      await waitFor(
        'the worker starts',
        30_000,
        async () => (worker.output().includes('taking scan jobs') ? true : undefined),
        worker.output,
      );
      expect(worker.output()).toContain(`catalogs from ${via()}, verified copies cached in ${cache}`);
      await uploadAll(names.map((_, k) => k).slice(0, 8));

      // Refused, twice at least (it tries again), and nothing scanned or cached meanwhile.
      await waitFor(
        'the worker refuses two damaged copies',
        30_000,
        async () => ((worker.output().match(/COMPILED_BAD_FILE: the compiled catalog/g) ?? []).length >= 2 ? true : undefined),
        worker.output,
      );
      expect(proxy.damaged).toBeGreaterThanOrEqual(2);
      expect(worker.output()).toMatch(/does not match the SHA-256 the site database records \(expected [0-9a-f]{16}…, got [0-9a-f]{16}…/);
      expect(readdirSync(cache).filter((f) => f.endsWith('.pscat'))).toEqual([]);
      expect((await store!.clients()).filter((c) => c.last_scan_at)).toEqual([]);
      const q = await store!.queueStatus();
      expect(q.failed).toBe(0); // the jobs wait for a good catalog; they do not burn their retries
      expect(q.queued.normal + q.active).toBeGreaterThan(0);

      // The network heals: the next try verifies, caches and scans.
      proxy.tamper = false;
      await waitFor(
        'the first eight scanned with the first catalog',
        60_000,
        async () => ((await store!.clients()).filter((c) => c.last_scan_at).length === 8 ? true : undefined),
        worker.output,
      );
      expect(worker.output()).toContain(`catalog ${catalog1.sha256.slice(0, 16)}… fetched from ${via()}`);
      const cached1 = join(cache, `${digest1}.pscat`);
      expect(readFileSync(cached1).equals(file1)).toBe(true);
      expect(existsSync(join(B, 'catalogs'))).toBe(false); // nothing came from elsewhere: no copy from the database

      // A second catalog in service while uploads go on: the worker switches between batches and fetches it too.
      const second = join(dir, 'second.cab');
      generateCatalog({ revisions: 400, seed: 9, out: second });
      const uploading = uploadAll(names.map((_, k) => k).slice(8));
      const synced = await ok(['sync', '--data', A, '--source', second]);
      expect(synced).toMatch(/^Sync updated: new catalog [0-9a-f]{16}/m);
      await uploading;
      const catalog2 = (await store!.currentCatalog())!;
      expect(catalog2.id).not.toBe(catalog1.id);
      await waitFor(
        'every client scanned with the second catalog, nothing queued',
        90_000,
        async () => {
          const s = await store!.queueStatus();
          if (s.queued.normal + s.queued.expedited + s.active > 0) return undefined;
          for (const name of names) if ((await store!.computerScan(name))?.catalog_id !== catalog2.id) return undefined;
          return true;
        },
        worker.output,
      );
      expect(worker.output()).toContain(`catalog ${catalog2.sha256.slice(0, 16)} is in service: the next batches are scanned with it`);
      expect(worker.output()).toContain(`catalog ${catalog2.sha256.slice(0, 16)}… fetched from ${via()}`);
      const digest2 = (await store!.catalogFileDigest(catalog2.id))!;
      expect(readFileSync(join(cache, `${digest2}.pscat`)).equals(readFileSync(catalog2.path))).toBe(true);
      // --keep-catalogs 1: the first catalog's copy went once the second was loaded.
      expect(readdirSync(cache).filter((f) => f.endsWith('.pscat'))).toEqual([`${digest2}.pscat`]);
      expect(worker.output()).toContain(
        `removed 1 old cached catalog(s) from ${cache} (kept 1, the one in use included): ${digest1}.pscat`,
      );

      // Every stored result names its catalog and is that catalog's answer for the client's latest inventory.
      const byId = new Map([
        [catalog1.id, new Catalog(readCatalogFile(catalog1.path))],
        [catalog2.id, new Catalog(readCatalogFile(catalog2.path))],
      ]);
      for (const [k, name] of names.entries()) {
        const scan = (await store!.computerScan(name))!;
        const stored = (await store!.resultUpdates(scan.set_id)).map((u) => `${u.update_id} ${u.state}`).sort();
        expect(stored, name).toEqual(expected(byId.get(scan.catalog_id)!, inventories[k]));
      }
      expect((await store!.queueStatus()).failed).toBe(0);

      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
      expect(worker.output()).not.toContain(admin);
    },
    240_000,
  );
});
