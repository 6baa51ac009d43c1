/**
 * `patchscan demo` as a user runs it (issue 13, item 9): it issues an admin token, leaves nothing running (the
 * process exits by itself, the port its server used is closed, no process names its directory), and ends by saying
 * how to open the web console — which works when followed: the printed command serves the site, the printed URL is
 * where it listens, the printed token signs in. A second run issues a new token and the first stops working.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

function runDemo(dataDir: string): Promise<{ code: number | null; out: string; err: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'demo', '--data-dir', dataDir, '--clients', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    // 'exit' only comes once the event loop is empty: a server, timer or thread left behind would keep it from coming.
    child.on('exit', (code) => resolve({ code, out, err, pid: child.pid! }));
  });
}

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Processes whose command line names `text` (this machine's /proc). */
function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

describe('patchscan demo', () => {
  it('issues an admin token, leaves nothing running, and ends with how to open the console — which works', async () => {
    const dir = tempDir();
    const data = join(dir, 'demo-data');
    const site = join(data, 'site');
    const first = await runDemo(data);
    expect(first.code, first.err).toBe(0);

    // Nothing left behind: the process exited on its own (above), its server's port is closed, no process names it.
    const port = Number(/\nlistening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(first.out)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
    expect(processesNaming(data)).toEqual([]);
    expect(() => process.kill(first.pid, 0)).toThrow(); // the demo's own process is gone

    // It shows an update group with a deadline, then ends with the console's how-to.
    const pattern = (...parts: string[]): RegExp => new RegExp(parts.join(''));
    expect(first.out).toMatch(
      pattern(
        String.raw`\$ patchscan group create "Security updates \(demo\)" `,
        String.raw`--classification "Security Updates" `,
        String.raw`--deadline \d{4}-\d{2}-\d{2} --data .*\nCreated "Security updates \(demo\)" with \d+ update\(s\)\n`,
      ),
    );
    expect(first.out).toMatch(
      pattern(
        String.raw`"Security updates \(demo\)": 50 computer\(s\), \d+ compliant \([\d.]+%\), `,
        String.raw`\d+ non-compliant, \d+ unknown; \d+ overdue`,
      ),
    );
    const howTo = pattern(
      String.raw`The web console\. The demo's server has stopped \(nothing is left running\); start one and sign in:\n`,
      String.raw` {2}\$ patchscan serve --data (.+)\n`,
      String.raw` {2}then open (http:\/\/\S+) and sign in with the admin token:\n {2}(psa_[A-Za-z0-9_-]{43})\n`,
      String.raw`\(A new admin token is issued each time the demo runs; the previous one no longer works\.\)\n$`,
    ).exec(first.out);
    expect(howTo, first.out.slice(-600)).not.toBeNull();
    const [, servedDir, url, token] = howTo!;
    expect(servedDir).toBe(site);
    const config = JSON.parse(readFileSync(join(site, 'patchscan.json'), 'utf8')) as { listen: string };
    expect(url).toBe(`http://${config.listen}/`); // where `patchscan serve` will listen

    // Followed: serve the site (on a free port here: 8530 may be taken on a shared machine), sign in with the token.
    const served = await startServe(servedDir);
    try {
      const signIn = await fetch(`${served.url}/login`, {
        method: 'POST',
        body: new URLSearchParams({ token: token }),
        redirect: 'manual',
      });
      expect(signIn.status).toBe(303);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
      const overview = await fetch(`${served.url}/`, { headers: { cookie }, redirect: 'manual' });
      expect(overview.status).toBe(200);
      expect(await overview.text()).toContain('50');
      const groups = await fetch(`${served.url}/v1/groups`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await groups.json()) as { name: string }[]).map((g) => g.name)).toEqual(['Security updates (demo)']);
    } finally {
      served.child.kill('SIGTERM');
      await new Promise((r) => served.child.once('exit', r));
    }

    // A second run: a new token; the first one no longer signs in. The group is made afresh, not twice.
    const second = await runDemo(data);
    expect(second.code, second.err).toBe(0);
    const token2 = /sign in with the admin token:\n {2}(psa_\S+)\n/.exec(second.out)![1];
    expect(token2).not.toBe(token);
    const again = await startServe(site);
    try {
      expect((await fetch(`${again.url}/v1/summary`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      const list = await fetch(`${again.url}/v1/groups`, { headers: { authorization: `Bearer ${token2}` } });
      expect(((await list.json()) as unknown[]).length).toBe(1);
    } finally {
      again.child.kill('SIGTERM');
      await new Promise((r) => again.child.once('exit', r));
    }
    expect(processesNaming(data)).toEqual([]);
  }, 240_000); // two whole demos and two servers on a busy 2-core machine
});
