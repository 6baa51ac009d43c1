/**
 * `patchscan worker --once` ends, as a script needs it to: on a SQLite site, whose database records no digest of its
 * catalog file, `--catalog-from` can never verify a copy, and the worker used to retry every 15 s for ever and exit 0
 * when killed. Now it stops with the error after a few tries, with its exit status. Real processes: `init`, `sync`,
 * `serve` and `worker` of the built CLI.
 */
import { type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServe, runCli } from '../helpers/serve.js';
import { BUNDLED } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const run = (args: string[]): { code: number; out: string } => {
  const r = runCli(args, { timeout: 120_000 });
  return { code: r.code, out: r.out + r.err };
};

describe('worker --once', () => {
  let serve: ChildProcess | undefined;
  afterAll(() => {
    serve?.kill('SIGKILL');
  });

  it('stops with the error after 3 failed tries in a row instead of retrying for ever', async () => {
    const site = join(tempDir(), 'site');
    const init = run(['init', '--data', site]);
    expect(init.code, init.out).toBe(0);
    const admin = /psa_[A-Za-z0-9_-]+/.exec(init.out)?.[0];
    expect(admin).toBeDefined();
    expect(run(['sync', '--data', site, '--source', BUNDLED]).code).toBe(0);
    const s = await startServe(site);
    serve = s.child;
    const tokenFile = join(site, 'admin.tok');
    writeFileSync(tokenFile, `${admin}\n`, { mode: 0o600 });
    const t = performance.now();
    const w = run(['worker', '--data', site, '--once', '--idle-ms', '20', '--catalog-from', s.url, '--token-file', tokenFile]);
    expect(w.code, w.out).toBe(2);
    expect(w.out.match(/NOT_FOUND: the site database records no SHA-256 of catalog/g)).toHaveLength(4); // 3 tries, then the exit line
    expect(w.out).toMatch(/^patchscan: NOT_FOUND: /m);
    expect(performance.now() - t).toBeLessThan(60_000);
  }, 120_000);
});
