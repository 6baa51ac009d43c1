/**
 * A computer that is not scanned says why, in the same words on every surface (issue 11, item 16): `patchscan upload`
 * (the client), `patchscan compliance` and `report computer` (the administrator), and HTTP's 404 — first because no
 * catalog is in service yet, then, after the sync, because no advertised collection targets it (the pilot limits the
 * main collection). Real processes: `init`, `serve` as a child, `upload`, `compliance`.
 */
import { type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, runCli, type CliRun } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

const run = (args: readonly string[]): CliRun => runCli(args);

describe('why a computer is not scanned, in the CLI and over HTTP', { timeout: 180_000 }, () => {
  const dir = tempDir();
  const data = join(dir, 'site');
  let server: ChildProcess | undefined;
  let url: string;
  let admin: string;
  let token: string;
  const file = join(dir, 'pc.json');

  beforeAll(async () => {
    const init = run(['init', '--data', data, '--test-computer', 'PC-PILOT', '--sync-host', 'SYNC']);
    expect(init.code, init.err).toBe(0);
    admin = /\n {2}(psa_\S+)\n/.exec(init.out)![1]!;
    expect(init.out).toContain(`Next: patchscan sync --data ${data} --source`);
    token = /\n {2}(pst_\S+)\n/.exec(run(['client', 'enroll', 'PC-LATE', '--data', data]).out)![1]!;
    const inv = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as { computer: { name: string } };
    writeFileSync(file, JSON.stringify({ ...inv, computer: { ...inv.computer, name: 'PC-LATE' } }));
    const started = await startServe(data);
    server = started.child;
    url = started.url;
  }, 180_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((res) => server!.once('exit', res));
      server.kill('SIGTERM');
      await exited;
    }
  });

  const http404 = async (): Promise<string> => {
    const r = await fetch(`${url}/v1/computers/PC-LATE/compliance`, { headers: { authorization: `Bearer ${admin}` } });
    expect(r.status).toBe(404);
    return ((await r.json()) as { error: { message: string } }).error.message;
  };

  it('before the first sync: no catalog in service (upload, compliance, report computer, HTTP)', async () => {
    const up = run(['upload', '--server', url, '--token', token, file]);
    expect(up.code, up.err).toBe(0);
    expect(up.out).toMatch(/^Accepted \(normal scan queued.*; not scanned yet: .*no catalog is in service yet: run patchscan sync/);
    for (const args of [
      ['compliance', 'PC-LATE'],
      ['report', 'computer', 'PC-LATE'],
    ]) {
      const r = run([...args, '--data', data]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(/^patchscan: NOT_FOUND: PC-LATE has not been scanned yet: .*no catalog is in service yet: run patchscan sync/);
    }
    expect(await http404()).toMatch(/^PC-LATE has not been scanned yet: .*no catalog is in service yet/);
  });

  it('after the sync: not targeted while the pilot limits the main collection — the same sentence everywhere', async () => {
    expect(run(['sync', '--source', BUNDLED, '--data', data]).code).toBe(0);
    // init again (as a second directory joining the site would): the next step is serve or worker, not a first sync.
    const again = run(['init', '--data', data]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`This site has a catalog in service`);
    expect(again.out).toContain(`patchscan worker --data ${data}`);
    expect(again.out).not.toContain('Next: patchscan sync');
    const up = run(['upload', '--server', url, '--token', token, file]);
    expect(up.out).toMatch(/not scanned yet: no advertised collection targets this computer yet \(architecture x64\)/);
    const cli = run(['compliance', 'PC-LATE', '--data', data])
      .err.replace(/^patchscan: NOT_FOUND: /, '')
      .trim();
    expect(cli).toMatch(/^PC-LATE has not been scanned yet: no advertised collection targets it \(architecture x64\)/);
    expect(await http404()).toBe(cli);
    expect(run(['compliance', 'NOBODY', '--data', data]).err).toBe('patchscan: NOT_FOUND: no computer named NOBODY\n');
  });
});
