/**
 * One PostgreSQL site, many real processes: two site directories (two "machines") on one database, two
 * `serve --no-scan` processes taking uploads, two `patchscan worker` processes scanning, and — in the middle of it —
 * a worker and a server killed with SIGKILL. Every accepted upload must be stored and scanned (the killed worker's
 * leased jobs included, handed out again by a live worker long before their lease runs out), and every computer's
 * compliance must equal what a single-process SQLite site computes from the same inventories. Then: that SQLite
 * site's `serve` stopped with SIGTERM while it scans, two `sync` processes at once on the PostgreSQL site, and a
 * database that is not there at all.
 *
 * Everything runs through the built CLI (dist/adapters/cli/bin.js: `npm run build` first) against the PostgreSQL
 * of test/helpers/postgres.ts; the test opens the same database itself only to read what the processes stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { unpack } from 'msgpackr';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../../adapters/server/upload-client.js';
import { CatalogVersions, computerCompliance } from '../../adapters/site/reports.js';
import { DEFAULT_CONFIG, writeConfig } from '../../adapters/site/site.js';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import { PGBOSS_SCHEMA } from '../../adapters/store/postgres/pg-boss-queue.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { BIN, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const MACHINES = 40;
const FLEET_SEED = 7;
/** Clients enrolled, and computers compared, through the CLI (the rest in-process: each CLI run costs ~1 s). */
const VIA_CLI = 4;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
  readonly ms: number;
}

/** Every child this file starts: killed in afterAll, whatever happened. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Runs the CLI to completion without blocking the event loop (servers and workers keep running meanwhile). */
function cli(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  const started = Date.now();
  const child = track(spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - started });
    });
  });
}

/** `cli` that must succeed. */
async function ok(args: readonly string[]): Promise<string> {
  const r = await cli(args);
  expect(r.code, `patchscan ${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}

/** Polls `check` until it returns a value other than undefined; fails with `what` (and the last state) at the deadline. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, state?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${state ? `\n${await state()}` : ''}`);
    await sleep(100);
  }
}

/** A long-running CLI process (serve, worker) whose output is kept for messages. */
interface Proc {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startProc(args: readonly string[]): Proc {
  const child = track(spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** `patchscan serve … --listen 127.0.0.1:0` (extra args: --no-scan, --database); resolves with its URL. */
async function startServer(args: readonly string[]): Promise<Proc & { url: string }> {
  const p = startProc(['serve', ...args, '--listen', '127.0.0.1:0']);
  const url = await waitFor('serve prints its URL', 30_000, async () => {
    const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(p.output());
    if (m) return m[1];
    if (p.child.exitCode !== null) throw new Error(`serve ${args.join(' ')} exited ${p.child.exitCode}: ${p.output()}`);
    return undefined;
  });
  return { ...p, url };
}

async function startWorker(args: readonly string[]): Promise<Proc> {
  const p = startProc(['worker', ...args]);
  await waitFor('worker starts taking jobs', 30_000, async () => {
    if (p.output().includes('taking scan jobs')) return true;
    if (p.child.exitCode !== null) throw new Error(`worker ${args.join(' ')} exited ${p.child.exitCode}: ${p.output()}`);
    return undefined;
  });
  return p;
}

async function kill(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** What a computer's compliance says, without what differs between two sites by nature (times, row ids). */
interface Compliance {
  computer: string;
  architecture: string | null;
  program: string;
  catalog: { sha256: string };
  counts: Record<string, number>;
  updates: { updateId: string; revisionNumber: number; kb: string; state: string; superseded: boolean; reason: string }[];
}

const comparable = (c: Compliance): unknown => ({
  computer: c.computer,
  architecture: c.architecture,
  program: c.program,
  catalog: c.catalog.sha256,
  counts: c.counts,
  updates: c.updates.map((u) => `${u.updateId}/${u.revisionNumber} ${u.state}${u.superseded ? ' superseded' : ''} ${u.reason}`).sort(),
});

describe('one PostgreSQL site, many processes', () => {
  const dir = tempDir('patchscan-multi-');
  const A = join(dir, 'A'); // the first machine: init, sync, a server and the workers
  const B = join(dir, 'B'); // the second machine: its own site directory, the same database
  const S = join(dir, 'sqlite'); // the single-process SQLite site the results are compared with
  let db: TestDatabase;
  /** The test's own view of the database (reads; its pg-boss runs maintenance every second — see the kill test). */
  let store: SiteStore | undefined;
  /** A plain connection for what the port does not expose: pg-boss's job rows. */
  let sql: pg.Client | undefined;

  const names = Array.from({ length: MACHINES }, (_, k) => `PC-${String(k).padStart(7, '0')}`);
  let bodies: Buffer[] = [];
  const tokens = new Map<string, string>();
  /** Printed at the end: how long things took (ms), and what the kills hit. */
  const timings: Record<string, number> = {};
  /** Printed at the end too: what did not go as planned but is not a failure. */
  const notes: string[] = [];
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      timings[label] = Date.now() - t;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const c of [...children]) c.kill('SIGKILL');
    await Promise.all(
      [...children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))),
    );
    await sql?.end().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await db?.drop();
    console.log(`multi-process timings (ms) and counts: ${JSON.stringify(timings)}${notes.length ? `\nnotes:\n${notes.join('\n')}` : ''}`);
  });

  const activeJobs = async (): Promise<{ id: string; clientId: number; ageMs: number }[]> =>
    (
      await sql!.query<{ id: string; client_id: number; age_ms: number }>(
        `SELECT id, (data->>'clientId')::int AS client_id, (extract(epoch FROM now() - started_on) * 1000)::int AS age_ms
         FROM ${PGBOSS_SCHEMA}.job WHERE name = 'scan' AND state = 'active' ORDER BY id`,
      )
    ).rows.map((r) => ({ id: r.id, clientId: r.client_id, ageMs: r.age_ms }));

  it(
    'init, sync and enroll on the first machine; the second machine joins the same ' + 'database with a site directory of its own',
    async () => {
      await timed('setup', async () => {
        const init = await ok(['init', '--data', A, '--database', db.url, '--test-computer', names[0]]);
        expect(init).toContain(`database ${db.url}`);
        expect(init).toMatch(/Admin token \(shown once/);
        expect(JSON.parse(readFileSync(join(A, 'patchscan.json'), 'utf8')).database).toBe(db.url);

        expect(await ok(['sync', '--data', A, '--source', BUNDLED])).toMatch(
          /^Sync updated: new catalog [0-9a-f]{16} \(3000 revisions\) in service/,
        );
        expect(await ok(['collection', 'unlimit', 'Microsoft Updates Tool', '--data', A])).toMatch(
          /^"Microsoft Updates Tool" is no longer limited/,
        );

        // The second machine: `init` on a database that is already a site writes B's configuration and changes nothing.
        const joined = await ok(['init', '--data', B, '--database', db.url]);
        expect(joined).toContain('All objects were already present.');
        expect(joined).not.toContain('Admin token');
        expect(joined).toContain(`Test computer (pre-production): ${names[0]}`);
        expect(JSON.parse(readFileSync(join(B, 'patchscan.json'), 'utf8')).database).toBe(db.url);

        // A few clients enrolled from both machines at once (each process starts pg-boss on the same database); the
        // rest through the store in this process (what `client enroll` runs), as every CLI process costs ~1 s to start.
        const outs = await Promise.all(names.slice(0, VIA_CLI).map((name, k) => ok(['client', 'enroll', name, '--data', k % 2 ? B : A])));
        outs.forEach((o, k) => tokens.set(names[k], /\n {2}(pst_\S+)\n/.exec(o)![1]));
        store = await openPostgresStore(db.url, { queue: { maintenanceIntervalSeconds: 1 } });
        for (const name of names.slice(VIA_CLI)) tokens.set(name, await store.enroll(name));
        sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        expect(await store.clientCount()).toBe(MACHINES);
        const cat = await store.currentCatalog();
        const model = new FleetModel(new Catalog(readCatalogFile(cat!.path)));
        bodies = names.map((name, k) => {
          const inv = model.machine(FLEET_SEED, k);
          expect(inv.computer.name).toBe(name);
          return Buffer.from(JSON.stringify(inv));
        });
      });
    },
    180_000,
  );

  it('two servers and two workers; a worker and a server killed mid-way: every accepted upload is stored and scanned', async () => {
    const [serverA, serverB] = await Promise.all([startServer(['--data', A, '--no-scan']), startServer(['--data', B, '--no-scan'])]);
    const workerArgs = ['--data', A, '--batch', '5', '--idle-ms', '100'];
    const [w1, w2] = await Promise.all([startWorker(workerArgs), startWorker(workerArgs)]);
    let serverBKilled = false;
    const accepted = new Set<string>();
    const refused: string[] = [];
    const t0 = Date.now();

    const send = async (k: number, server: string): Promise<boolean> => {
      try {
        const r = await upload(server, tokens.get(names[k])!, bodies[k], { timeoutMs: 15_000 });
        if (r.status === 202) {
          accepted.add(names[k]);
          return true;
        }
        refused.push(`${names[k]} → ${server}: ${r.status} ${JSON.stringify(r.body)}`);
      } catch (e) {
        refused.push(`${names[k]} → ${server}: ${(e as Error).message}`);
      }
      return false;
    };

    // The first worker is killed while it holds leased jobs, and the test knows which: for one wave of uploads the
    // other worker is frozen (SIGSTOP), so whatever becomes active then is the first worker's; the moment some is,
    // the first worker is frozen too and — if it still holds them — SIGKILLed (its open transaction rolls back; its
    // leases stay). Then the other worker goes on and a replacement starts. A wave where the first worker finished
    // before it could be stopped is retried on the next one.
    let heldByKilled: { id: string; clientId: number }[] = [];
    let killAttempts = 0;
    let w3Started: Promise<Proc> | undefined;
    const killWorkerHoldingJobs = async (before: ReadonlySet<string>, wave: Promise<unknown>): Promise<void> => {
      killAttempts++;
      let waveDone = false;
      void wave.then(() => (waveDone = true));
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if ((await activeJobs()).some((j) => !before.has(j.id))) {
          w1.child.kill('SIGSTOP');
          const held = (await activeJobs()).filter((j) => !before.has(j.id));
          if (held.length > 0) {
            heldByKilled = held;
            await kill(w1);
            timings.workerKilledAt = Date.now() - t0;
            return;
          }
          w1.child.kill('SIGCONT');
        } else if (waveDone && (await store!.queueStatus()).queued.normal === 0) {
          return; // the first worker scanned this wave's jobs before it could be stopped
        }
        await sleep(2);
      }
      notes.push(
        `kill attempt ${killAttempts} gave up after 10 s: wave ` +
          `${waveDone ? 'answered' : 'not answered'}, queue ` +
          `${JSON.stringify(await store!.queueStatus())}, active ` +
          `${JSON.stringify(await activeJobs())}`,
      );
    };

    // Uploads in waves of 8, spread over both servers; the second server is killed in the middle of the third wave
    // (with uploads in flight to it). What it did not answer 202 goes to the first server again, as a client would.
    const order = names.map((_, k) => k);
    for (let wave = 0; wave < MACHINES / 8; wave++) {
      const killing = wave > 0 && !heldByKilled.length;
      const before = killing ? new Set((await activeJobs()).map((j) => j.id)) : new Set<string>();
      if (killing) w2.child.kill('SIGSTOP');
      try {
        const inFlight: Promise<boolean>[] = [];
        const sending = (async () => {
          for (const k of order.slice(wave * 8, wave * 8 + 8)) {
            inFlight.push(send(k, k % 2 && !serverBKilled ? serverB.url : serverA.url));
            if (wave === 2 && k % 8 === 5) {
              await sleep(5);
              await kill(serverB);
              serverBKilled = true;
              timings.serverKilledAt = Date.now() - t0;
            }
          }
          await Promise.all(inFlight);
        })();
        if (killing) await killWorkerHoldingJobs(before, sending);
        await sending;
      } finally {
        if (killing) w2.child.kill('SIGCONT');
      }
      if (heldByKilled.length && !w3Started) w3Started = startWorker(workerArgs); // the replacement
      await sleep(300);
    }
    expect(serverBKilled).toBe(true);
    for (let attempt = 0; attempt < 3; attempt++) {
      const missing = names.map((_, k) => k).filter((k) => !accepted.has(names[k]));
      await Promise.all(missing.map((k) => send(k, serverA.url)));
    }
    timings.uploadsDone = Date.now() - t0;
    timings.uploadsNotAccepted = refused.length;
    timings.killAttempts = killAttempts;
    expect(heldByKilled.length, `the first worker was never caught holding jobs in ${killAttempts} wave(s)`).toBeGreaterThan(0);
    expect(w1.child.signalCode).toBe('SIGKILL');
    const w3 = await w3Started!;
    expect(await serverB.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The surviving server accepts everything the killed one did not: every machine's upload is accepted once.
    expect([...accepted].sort(), refused.join('\n')).toEqual(names);

    // Every 202-accepted inventory is stored (an upload the killed server committed but never answered is stored
    // too, and sent again: a client may have two).
    for (const name of accepted) {
      const c = (await store!.client(name))!;
      expect(await store!.inventoryCount(c.id), name).toBeGreaterThanOrEqual(1);
      const latest = unpack((await store!.latestInventory(c.id))!.body) as { computer: { name: string } };
      expect(latest.computer.name).toBe(name);
    }
    const withInventory = new Set(await store!.clientsWithInventory());
    expect(withInventory.size).toBe(MACHINES);

    const state = async (): Promise<string> =>
      `queue ${JSON.stringify(await store!.queueStatus())}; active jobs ` +
      `${JSON.stringify(await activeJobs())}; held by the killed worker ` +
      `${JSON.stringify(heldByKilled)}; ` +
      `not scanned ${(await store!.clients())
        .filter((c) => withInventory.has(c.id) && !c.last_scan_at)
        .map((c) => c.name)
        .join(', ')}\n` +
      `refused uploads:\n${refused.join('\n')}\nworker 2:\n${w2.output()}\nworker 3:\n${w3.output()}\nserver A:\n${serverA.output()}`;

    // The killed worker's jobs come back without waiting out their lease (pg-boss's expire_in, 300 s: the workers
    // run with the default): a live worker of this host sees at its next take that the holder's process is gone
    // and retries them at once (adapters/store/postgres/scan-workers.ts). The deadline below is well inside the
    // lease, so only that can make it.
    const heldIds = heldByKilled.map((j) => j.id);
    await timed('recoveredKilledJobs', () =>
      waitFor(
        'every client with an inventory scanned, nothing queued or running',
        90_000,
        async () => {
          const q = await store!.queueStatus();
          if (q.queued.normal + q.queued.expedited + q.active > 0) return undefined;
          const clients = await store!.clients();
          return clients.every((c) => !withInventory.has(c.id) || c.last_scan_at) ? true : undefined;
        },
        state,
      ),
    );
    // Each of the killed worker's jobs was handed out again (a try counted) or, if a newer upload of its client was
    // scanned first, it ended anyway: none is still active, and none ran out its lease.
    const after = (
      await sql!.query<{ id: string; state: string; retry_count: number; output: unknown }>(
        `SELECT id, state, retry_count, output FROM ${PGBOSS_SCHEMA}.job WHERE id = ANY($1::uuid[])
       UNION ALL SELECT id, state, retry_count, output FROM ${PGBOSS_SCHEMA}.archive WHERE id = ANY($1::uuid[])`,
        [heldIds],
      )
    ).rows;
    expect(after.map((r) => r.state).filter((st) => st === 'active' || st === 'failed')).toEqual([]);
    expect(JSON.stringify(after.map((r) => r.output))).not.toMatch(/timeout in active state/);
    expect(after.filter((r) => r.retry_count >= 1).length, JSON.stringify(after)).toBe(after.length);
    timings.killedWorkerJobsRetried = after.length;

    // Delivery is at least once (a killed worker's jobs are handed out again), but a job's results and its completion
    // commit in one transaction: what is stored is once per job. Every scan job the site ever queued ended completed,
    // each once (pg-boss keeps one row per job, in its job table or, once archived, in its archive).
    const jobs = (
      await sql!.query<{ id: string; state: string }>(
        `SELECT id, state FROM ${PGBOSS_SCHEMA}.job WHERE name = 'scan' UNION ALL SELECT id, state FROM ${PGBOSS_SCHEMA}.archive WHERE name = 'scan'`,
      )
    ).rows;
    expect(jobs.length).toBeGreaterThanOrEqual(MACHINES);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
    expect(
      jobs.filter((j) => j.state !== 'completed'),
      JSON.stringify(jobs.filter((j) => j.state !== 'completed')),
    ).toEqual([]);
    // Each client with an inventory has one stored scan (scans is keyed by client), and it read the client's latest
    // inventory: no upload lost its scan to a scan of an older inventory committed after it.
    const stale = (
      await sql!.query<{ client_id: string; scanned: string | null; latest: string }>(
        `SELECT i.client_id, s.inventory_id AS scanned, max(i.id) AS latest FROM inventories i
         LEFT JOIN scans s ON s.client_id = i.client_id GROUP BY i.client_id, s.inventory_id
         HAVING s.inventory_id IS DISTINCT FROM max(i.id)`,
      )
    ).rows;
    expect(stale, JSON.stringify(stale)).toEqual([]);
    expect(Number((await sql!.query<{ n: string }>('SELECT count(*) AS n FROM scans')).rows[0].n)).toBe(MACHINES);

    // The same through the CLI, from the second machine.
    const status = JSON.parse(await ok(['queue', 'status', '--data', B, '--json'])) as {
      queued: { expedited: number; normal: number };
      active: number;
      failed: number;
    };
    expect(status).toMatchObject({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 0 });
    const fleet = JSON.parse(await ok(['compliance', '--data', B, '--json'])) as { clients: number; scanned: number };
    expect(fleet).toMatchObject({ clients: MACHINES, scanned: MACHINES });
    timings.scanAllDone = Date.now() - t0;

    // The workers still running stop cleanly on SIGTERM; the server too.
    for (const p of [w2, w3, serverA]) p.child.kill('SIGTERM');
    for (const p of [w2, w3, serverA]) expect(await p.exited, p.output()).toEqual({ code: 0, signal: null });
    expect(w2.output()).toMatch(/patchscan worker: \d+ scanned/);
  }, 240_000);

  it("every computer's compliance equals what a single-process SQLite site computes from the same inventories", async () => {
    let sqlite: SiteStore | undefined;
    try {
      await timed('sqliteSite', async () => {
        expect((await cli(['init', '--data', S, '--test-computer', names[0]])).code).toBe(0);
        expect(await ok(['sync', '--data', S, '--source', BUNDLED])).toMatch(/^Sync updated/);
        await ok(['collection', 'unlimit', 'Microsoft Updates Tool', '--data', S]);
        const sqliteTokens = await Promise.all(
          names.slice(0, VIA_CLI).map(async (name) => /\n {2}(pst_\S+)\n/.exec(await ok(['client', 'enroll', name, '--data', S]))![1]),
        );
        sqlite = openSqliteStore(join(S, 'patchscan.db'));
        for (const name of names.slice(VIA_CLI)) sqliteTokens.push(await sqlite.enroll(name));
        const started = await startServe(S); // scans in its own process
        track(started.child);
        try {
          const answers = await Promise.all(names.map((_, k) => upload(started.url, sqliteTokens[k], bodies[k])));
          expect(answers.map((a) => a.status)).toEqual(names.map(() => 202));
          await waitFor('the SQLite site scans every computer', 60_000, async () => {
            const q = await sqlite!.queueStatus();
            const scanned = (await sqlite!.clients()).filter((c) => c.last_scan_at).length;
            return scanned === MACHINES && q.queued.normal + q.queued.expedited + q.active === 0 ? true : undefined;
          });
        } finally {
          // SIGTERM stops serve: it finishes the scan step in hand and exits 0 — within seconds, not never.
          started.child.kill('SIGTERM');
          const exit = await Promise.race([
            new Promise<number | null>((r) =>
              started.child.exitCode !== null ? r(started.child.exitCode) : started.child.once('exit', (code) => r(code)),
            ),
            sleep(15_000).then(() => 'still running 15 s after SIGTERM'),
          ]);
          if (typeof exit === 'string') started.child.kill('SIGKILL');
          expect(exit, `serve (SQLite, scanning in-process): ${started.output()}`).toBe(0);
        }
      });

      await timed('compare', async () => {
        const onPostgres = new CatalogVersions(store!);
        const onSqlite = new CatalogVersions(sqlite!);
        let updates = 0;
        for (const name of names) {
          const p = (await computerCompliance(store!, onPostgres, name)) as Compliance | undefined;
          const q = (await computerCompliance(sqlite!, onSqlite, name)) as Compliance | undefined;
          expect(p, name).toBeDefined();
          expect(q, name).toBeDefined();
          expect(comparable(p!), name).toEqual(comparable(q!));
          updates += p!.updates.length;
        }
        expect(updates).toBeGreaterThan(MACHINES); // the fleet is not trivially compliant: there is something to compare
        // What the CLI prints is what the store says, from either machine.
        await Promise.all(
          names.slice(0, VIA_CLI).map(async (name, k) => {
            const printed = JSON.parse(await ok(['compliance', name, '--data', k % 2 ? B : A, '--json'])) as Compliance;
            expect(printed).toEqual(JSON.parse(JSON.stringify(await computerCompliance(store!, onPostgres, name))));
            const printedSqlite = JSON.parse(await ok(['compliance', name, '--data', S, '--json'])) as Compliance;
            expect(comparable(printed)).toEqual(comparable(printedSqlite));
          }),
        );
      });
    } finally {
      await sqlite?.close();
    }
  }, 180_000);

  it(
    'serve stops on SIGTERM in the middle of a scan run (SQLite site, scanning ' + 'in-process): it ends the step in hand and exits 0',
    async () => {
      // The comparison site again: every client is queued for a rescan, and serve gets SIGTERM while it works through
      // them (scan steps chain through setImmediate until the queue is empty). It must not wait for ever.
      const sqlite = openSqliteStore(join(S, 'patchscan.db'));
      let started: Awaited<ReturnType<typeof startServe>> | undefined;
      try {
        started = await startServe(S);
        track(started.child);
        const since = new Date().toISOString();
        for (const c of await sqlite.clients()) await sqlite.enqueueScan(c.id, 'normal', 'SIGTERM test');
        const deadline = Date.now() + 30_000;
        for (;;) {
          const q = await sqlite.queueStatus();
          if ((await sqlite.scansSince(since)) > 0 && q.queued.normal + q.active > 0) break; // scanning, with work left
          if (Date.now() > deadline)
            throw new Error(`serve never started on the queued rescans: ${JSON.stringify(q)}\n${started.output()}`);
          await sleep(1);
        }
        started.child.kill('SIGTERM');
        const t = Date.now();
        const exit = await Promise.race([
          new Promise<number | null>((r) =>
            started!.child.exitCode !== null ? r(started!.child.exitCode) : started!.child.once('exit', (code) => r(code)),
          ),
          sleep(15_000).then(() => 'still running 15 s after SIGTERM'),
        ]);
        timings.serveStopWhileScanning = Date.now() - t;
        expect(exit, `serve (SQLite, scanning in-process), SIGTERM with scans still queued: ${started.output()}`).toBe(0);
        expect(started.output()).toContain('patchscan serve: stopped');
      } finally {
        started?.child.kill('SIGKILL');
        await sqlite.close();
      }
    },
    60_000,
  );

  it('two syncs started together on the PostgreSQL site both exit; the catalog in service still loads, and rescan works', async () => {
    const second = join(dir, 'second.cab');
    generateCatalog({ revisions: 400, seed: 9, out: second });
    const [s1, s2] = await timed('twoSyncs', () =>
      Promise.all([cli(['sync', '--data', A, '--source', second], 120_000), cli(['sync', '--data', A, '--source', second], 120_000)]),
    );
    timings.sync1Exit = s1.code ?? -1;
    timings.sync2Exit = s2.code ?? -1;
    const both = `sync 1 (exit ${s1.code}):\n${s1.out}${s1.err}\nsync 2 (exit ${s2.code}):\n${s2.out}${s2.err}`;
    expect(s1.signal, both).toBeNull(); // both ended by themselves
    expect(s2.signal, both).toBeNull();
    expect(
      [s1.out, s2.out].some((o) => /^Sync updated: new catalog [0-9a-f]{16} \(\d+ revisions\) in service/.test(o)),
      both,
    ).toBe(true);

    const status = JSON.parse(await ok(['sync', 'status', '--data', A, '--json'])) as {
      catalog: { sha256: string; path: string; revisions: number };
    };
    // The catalog in service is the new one, and its compiled file is there and loads.
    expect(existsSync(status.catalog.path), `${status.catalog.path} (the catalog in service) is missing\n${both}`).toBe(true);
    const catalog = new Catalog(readCatalogFile(status.catalog.path));
    expect(catalog.size).toBeGreaterThan(0);
    expect(new Scanner(catalog).scan(new FleetModel(catalog).machine(1, 0)).length).toBeGreaterThan(0);
    // The other one either did the same work or was turned away with a clear message — never an internal error.
    for (const s of [s1, s2]) if (s.code !== 0) expect(`${s.out}${s.err}`, both).not.toMatch(/INTERNAL/);

    const re = await cli(['rescan', names[1], '--expedited', '--data', A]);
    expect(re.code, re.err).toBe(0);
    expect(re.out).toMatch(
      new RegExp(`^Scanned ${names[1]} now \\(Microsoft Updates Tool[^)]*\\(expedited\\)\\): Required \\d+, Installed \\d+, Unknown \\d+`),
    );
    const c = JSON.parse(await ok(['compliance', names[1], '--data', B, '--json'])) as Compliance;
    expect(c.catalog.sha256).toBe(status.catalog.sha256);
  }, 180_000);

  it('an unreachable database: serve exits 1 within seconds, naming host and database, never the password', async () => {
    // A site directory whose patchscan.json names the database, so the database itself is tried (not refused as no site).
    writeConfig(join(dir, 'X'), { ...DEFAULT_CONFIG, database: 'postgres://u:s3cret@127.0.0.1:1/nope' });
    const r = await timed('unreachable', () => cli(['serve', '--data', join(dir, 'X'), '--listen', '127.0.0.1:0'], 30_000));
    expect(r.signal, r.err).toBeNull(); // not killed by our timeout: it exited by itself
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/STORE_UNAVAILABLE/);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.err).toContain('127.0.0.1:1');
    expect(r.err).toContain('nope');
    expect(`${r.out}${r.err}`).not.toContain('s3cret');
    expect(r.out).not.toContain('listening on');
  }, 60_000);
});
