/**
 * A second `patchscan serve` on the same SQLite site cooperates (README, "Scaling out"): two real serve processes on
 * one site directory, uploads spread over both while both scan. Every 202 is stored, every client ends scanned with
 * its latest inventory, no job fails, each answers /healthz promptly while the other writes, and both stop on SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { upload } from '../../adapters/server/upload-client.js';
import { Site } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const CLIENTS = 24;
const children: ChildProcess[] = [];

describe('two serve processes on one SQLite site', () => {
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('uploads over both are all stored and scanned, nothing fails, both stay responsive and stop cleanly', async () => {
    const dir = tempDir();
    const { site, catalog, names } = await scannedSite(dir, { clients: CLIENTS, admin: 'psa_two-serves' });
    const tokens: string[] = [];
    for (const name of names) tokens.push(await site.store.enroll(name));
    const model = new FleetModel(catalog);
    const bodies = names.map((name, k) => Buffer.from(JSON.stringify({ ...model.machine(8, k), computer: { name } })));
    const since = new Date().toISOString();
    await site.close();

    const [a, b] = await Promise.all([startServe(dir), startServe(dir)]);
    children.push(a.child, b.child);
    const slowest: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        for (const s of [a, b]) {
          const t = Date.now();
          const r = await fetch(`${s.url}/healthz`);
          expect(r.status).toBe(200);
          await r.arrayBuffer();
          slowest.push(Date.now() - t);
        }
        await sleep(20);
      }
    })();
    const answers = await Promise.all(names.map((_, k) => upload(k % 2 ? b.url : a.url, tokens[k], bodies[k], { timeoutMs: 20_000 })));
    expect(
      answers.map((r) => r.status),
      JSON.stringify(answers.filter((r) => r.status !== 202)),
    ).toEqual(names.map(() => 202));

    const check = await Site.open(dir);
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const q = await check.store.queueStatus();
        const latest = await Promise.all(names.map(async (n) => (await check.store.computerScan(n))?.scanned_at ?? ''));
        if (q.queued.normal + q.queued.expedited + q.active === 0 && latest.every((t) => t >= since)) break;
        if (Date.now() > deadline) throw new Error(`not every client scanned: ${JSON.stringify(q)}\n${a.output()}\n${b.output()}`);
        await sleep(100);
      }
      expect((await check.store.queueStatus()).failed).toBe(0);
      for (const name of names) {
        const c = (await check.store.client(name))!;
        const latest = (await check.store.latestInventory(c.id))!;
        expect((await check.store.lastScan(c.id))?.inventory_id, name).toBe(latest.id); // scanned with the upload just made
        expect(await check.store.inventoryCount(c.id), name).toBe(2); // the helper's and this one, each stored once
      }
    } finally {
      await check.close();
      probing = false; // also when the wait above throws: the probe loop must not outlive the test
    }
    await probe;
    // Not a speed figure: the stall this guards against was the lock's wait on the event loop (~20 s); 10 s leaves room
    // for a 2-core machine under heavy load and still catches that.
    expect(Math.max(...slowest), `slowest /healthz: ${Math.max(...slowest)} ms`).toBeLessThan(10_000);

    for (const s of [a, b]) s.child.kill('SIGTERM');
    for (const s of [a, b]) {
      const code = await new Promise<number | null>((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.once('exit', r)));
      expect(code, s.output()).toBe(0);
    }
  }, 180_000);
});
