/**
 * The database goes away in the middle of a run, and comes back. A real TCP proxy stands between the site's processes
 * and the shared PostgreSQL (which must keep running for everyone else): the test cuts it — every open connection
 * reset, every new one refused — and restores it. A `serve --no-scan` process and a `patchscan worker` process
 * (the built CLI) run through the proxy the whole time; the test reads the database directly.
 *
 * Expected: while it is gone, uploads are answered 503 STORE_UNAVAILABLE and store nothing; neither process exits;
 * once it is back both carry on by themselves; every 202 is stored (exactly the accepted ones, nothing half-written)
 * and every client ends up scanned with its latest inventory — the jobs a worker held when the connection died
 * included, well inside their 300 s lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../../adapters/server/upload-client.js';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { BIN } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const CLIENTS = 12;

/** A TCP proxy to PostgreSQL that can be cut (open connections reset, new ones refused) and restored. */
class CuttableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private down = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

const children = new Set<ChildProcess>();

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: readonly string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

async function run(args: readonly string[]): Promise<string> {
  const p = start(args);
  const { code } = await p.exited;
  expect(code, `patchscan ${args.join(' ')}\n${p.output()}`).toBe(0);
  return p.output();
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, state?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${state ? `\n${await state()}` : ''}`);
    await sleep(100);
  }
}

describe('the database goes away mid-run and comes back (a TCP proxy in front of PostgreSQL, cut and restored)', () => {
  const dir = join(tempDir('patchscan-outage-'), 'site');
  let db: TestDatabase;
  let proxy: CuttableProxy;
  /** The test's own view, straight to PostgreSQL (not through the proxy). */
  let store: SiteStore | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    const admin = new URL(ADMIN_URL);
    proxy = new CuttableProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    await proxy.listen();
  });

  afterAll(async () => {
    for (const c of [...children]) c.kill('SIGKILL');
    await store?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
  });

  it('uploads get 503 STORE_UNAVAILABLE while it is gone; server and worker recover; every 202 is stored and scanned', async () => {
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    await run(['init', '--data', dir, '--database', proxied.toString(), '--test-computer', 'PC-0000000']);
    await run(['sync', '--data', dir, '--source', BUNDLED]);
    await run(['collection', 'unlimit', 'Microsoft Updates Tool', '--data', dir]);
    store = await openPostgresStore(db.url);
    const model = new FleetModel(new Catalog(readCatalogFile((await store.currentCatalog())!.path)));
    const machines = Array.from({ length: CLIENTS }, (_, k) => model.machine(7, k));
    const tokens: string[] = [];
    for (const m of machines) tokens.push(await store.enroll(m.computer.name));
    const ids = await Promise.all(machines.map(async (m) => (await store!.client(m.computer.name))!.id));
    const bodies = machines.map((m) => Buffer.from(JSON.stringify(m)));

    const server = start(['serve', '--data', dir, '--no-scan', '--listen', '127.0.0.1:0']);
    const url = await waitFor('serve listens', 30_000, async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())?.[1]);
    const worker = start(['worker', '--data', dir, '--batch', '3', '--idle-ms', '100', '--threads', '1']);
    await waitFor('the worker starts', 30_000, async () => (worker.output().includes('taking scan jobs') ? true : undefined));

    const accepted = new Map<number, number>(); // client index → 202s
    const send = async (k: number): Promise<number> => {
      const r = await upload(url, tokens[k], bodies[k], { timeoutMs: 20_000 });
      if (r.status === 202) accepted.set(k, (accepted.get(k) ?? 0) + 1);
      return r.status;
    };

    // 1. Up: half the fleet uploads, one at a time, until the worker is caught holding jobs: it is frozen (SIGSTOP)
    //    the moment a job is active, then the database is cut, then it goes on — its batch cannot be stored, nor can
    //    its jobs be failed, while the database is away.
    const first = Array.from({ length: CLIENTS / 2 }, (_, k) => k);
    let caught = false;
    for (const k of first) {
      expect(await send(k)).toBe(202);
      if (caught) continue;
      const deadline = Date.now() + 5_000;
      while (!caught && Date.now() < deadline) {
        if ((await store.queueStatus()).active > 0) {
          worker.child.kill('SIGSTOP');
          if ((await store.queueStatus()).active > 0) caught = true;
          else worker.child.kill('SIGCONT');
        }
        if ((await store.queueStatus()).queued.normal === 0 && !caught) break; // scanned before it could be caught
        await sleep(2);
      }
    }
    expect(caught, 'the worker was never caught holding a job').toBe(true);
    const heldAtCut = (await store.queueStatus()).active;

    // 2. Cut, with the worker's batch in hand and scans queued.
    proxy.cut();
    worker.child.kill('SIGCONT');
    const second = Array.from({ length: CLIENTS / 2 }, (_, k) => CLIENTS / 2 + k);
    for (const k of second) {
      const r = await upload(url, tokens[k], bodies[k], { timeoutMs: 20_000 });
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
    }
    // The worker notices (its takes fail) and keeps running; so does the server.
    await waitFor('the worker reports the outage', 30_000, async () => (/STORE_UNAVAILABLE/.test(worker.output()) ? true : undefined));
    expect(await store.inventoryCount(ids[CLIENTS - 1])).toBe(0); // nothing of a refused upload
    expect(server.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();

    // 3. Back: the clients that were refused send again (as a client does after a 503), and a few send a newer one.
    proxy.restore();
    for (const k of second)
      await waitFor(`upload ${k} accepted once the database is back`, 30_000, async () => ((await send(k)) === 202 ? true : undefined));
    for (const k of [0, 1, 2]) expect(await send(k)).toBe(202);

    const state = async (): Promise<string> =>
      `queue ${JSON.stringify(await store!.queueStatus())}\nworker:\n${worker.output()}\nserver:\n${server.output()}`;
    await waitFor(
      'every client scanned, nothing queued or running',
      90_000,
      async () => {
        const q = await store!.queueStatus();
        if (q.queued.normal + q.queued.expedited + q.active > 0) return undefined;
        const clients = await Promise.all(ids.map((id) => store!.clientById(id)));
        return clients.every((c) => c?.last_scan_at) ? true : undefined;
      },
      state,
    );

    // Exactly what was accepted is stored — nothing lost, nothing of a refused upload — and each client's latest
    // inventory is the one its scan read. No job gave up.
    for (let k = 0; k < CLIENTS; k++) {
      expect(await store.inventoryCount(ids[k]), machines[k].computer.name).toBe(accepted.get(k));
      expect((await store.lastScan(ids[k]))!.inventory_id).toBe((await store.latestInventory(ids[k]))!.id);
    }
    expect((await store.queueStatus()).failed).toBe(0);
    expect(heldAtCut).toBeGreaterThan(0);

    // Both processes lived through it, and stop in good order.
    for (const p of [server, worker]) p.child.kill('SIGTERM');
    for (const p of [server, worker]) expect(await p.exited, p.output()).toEqual({ code: 0, signal: null });
  }, 240_000);
});
