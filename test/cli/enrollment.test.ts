/**
 * The enrollment lifecycle as an administrator uses it (issue 11, item 17): real `patchscan` processes on a site made
 * by `patchscan init`, with `patchscan serve` running as a child process, so that what each command promises is
 * checked where it matters — over HTTP:
 *   client revoke NAME       its token gets 401 at once; its data stays; `client list` shows it revoked
 *   client rotate NAME       a new token works, the old one gets 401; unknown and revoked names are refused
 *   client remove NAME       warns (exit 3) without --yes; with it, the client, inventories and results go
 *   admin-token reset        a new admin token works, the old one gets 401
 *   client enroll --from F --out CSV   tokens for many names in a 0600 file; no overwrite without --force; a bad
 *                            name fails the whole batch, naming its line, before anything is written
 * and the same commands on a PostgreSQL site.
 */
import { type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Site } from '../../adapters/site/site.js';
import { startServe, runCliAsync } from '../helpers/serve.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `patchscan ARGS…` as its own process (asynchronous: the server child keeps being read meanwhile). */
const run = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> => runCliAsync(args, { env });

const tokenIn = (r: Run): string => {
  const m = /\n {2}(ps[at]_\S+)\n/.exec(r.out);
  if (!m) throw new Error(`no token in: ${r.out}${r.err}`);
  return m[1];
};

// Every step is a Node.js process of its own (about a second each on a busy machine): generous timeouts.
describe(
  'patchscan client revoke | rotate | remove, admin-token reset, enroll --from (SQLite site, serve running)',
  { timeout: 180_000 },
  () => {
    const dir = tempDir();
    const data = join(dir, 'site');
    let server: ChildProcess | undefined;
    let url: string;
    let admin: string;
    const site = (args: string[]): Promise<Run> => run([...args, '--data', data]);
    /** An inventory file of `name` (the bundled Windows 10 x64 fixture, renamed). */
    const inventoryFile = (name: string): string => {
      const inv = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as { computer: { name: string } };
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ ...inv, computer: { ...inv.computer, name } }));
      return file;
    };
    /** `patchscan upload` as the client would run it: the HTTP status it got (202 accepted, 401 refused…). */
    const uploadAs = async (name: string, token: string): Promise<number> => {
      const r = await run(['upload', '--server', url, '--token', token, inventoryFile(name)]);
      if (r.code === 0) return 202;
      const m = /upload of .* refused: (\d{3}) /.exec(r.err);
      if (!m) throw new Error(`upload failed: ${r.err}`);
      return Number(m[1]);
    };
    const adminGet = async (path: string, token: string): Promise<number> =>
      (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
    const waitScanned = async (name: string): Promise<string> => {
      for (let i = 0; i < 400; i++) {
        const r = await site(['compliance', name]);
        if (r.code === 0) return r.out;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`${name} was never scanned`);
    };
    const listLine = async (name: string): Promise<string | undefined> =>
      (await site(['client', 'list'])).out.split('\n').find((l) => l.startsWith(`${name} `));

    beforeAll(async () => {
      const init = await run(['init', '--data', data, '--test-computer', 'PC-PILOT', '--sync-host', 'SYNC']);
      expect(init.code, init.err).toBe(0);
      admin = tokenIn(init);
      expect((await site(['sync', '--source', BUNDLED])).code).toBe(0);
      // Every client is scanned (the seed's last step), so that removing one has results to remove.
      expect((await site(['collection', 'unlimit', 'Microsoft Updates Tool'])).code).toBe(0);
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

    it('each command explains itself in --help', async () => {
      const help = async (...cmd: string[]): Promise<string> => {
        const r = await run([...cmd, '--help']);
        expect(r.code, r.err).toBe(0);
        return r.out.replace(/\s+/g, ' '); // commander wraps lines at its own width
      };
      expect(await help('client', 'revoke')).toMatch(
        /its uploads and reports are refused \(401\) at once; its data stays[\s\S]*shows it as revoked/,
      );
      expect(await help('client', 'rotate')).toMatch(/old token stops working at once[\s\S]*refuses a name the site does not know/);
      expect(await help('client', 'remove')).toMatch(/needs --yes[\s\S]*every inventory it uploaded[\s\S]*exit status 3/);
      expect(await help('admin-token', 'reset')).toMatch(
        /local access to the site's database[\s\S]*SQLite \(the default\): write access to the site's database file[\s\S]*PostgreSQL: the database URL/,
      );
      const enroll = await help('client', 'enroll');
      expect(enroll).toMatch(/--from <names\.txt>[\s\S]*--out <tokens\.csv>[\s\S]*mode 0600[\s\S]*--force/);
      expect(enroll).toMatch(/a bad or repeated name fails the whole batch, naming its line, and nothing is enrolled or written/);
      expect(await help('client')).toMatch(/enroll[\s\S]*list[\s\S]*rotate[\s\S]*revoke[\s\S]*remove/);
    });

    it(
      'revoke: the token is refused (401) at once, the data stays, client list shows ' + 'it revoked; enroll gives it a token again',
      async () => {
        const token = tokenIn(await site(['client', 'enroll', 'PC-REVOKE']));
        expect(await uploadAs('PC-REVOKE', token)).toBe(202);
        await waitScanned('PC-REVOKE');
        expect(await adminGet('/v1/computers/PC-REVOKE/compliance', token)).toBe(200);

        const r = await site(['client', 'revoke', 'pc-revoke']);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/^Revoked PC-REVOKE: its token no longer works\. Its inventories and results are kept/);
        expect(await uploadAs('PC-REVOKE', token)).toBe(401); // no restart, no cache: the next request
        expect(await adminGet('/v1/computers/PC-REVOKE/compliance', token)).toBe(401);
        // Its data stays: its compliance for the admin, its stored inventory, its line in the list marked revoked.
        expect(await adminGet('/v1/computers/PC-REVOKE/compliance', admin)).toBe(200);
        expect((await site(['compliance', 'PC-REVOKE'])).code).toBe(0);
        expect(await listLine('PC-REVOKE')).toMatch(/ 1 inventory\(ies\), [\d.]+ (B|KiB|MiB) {2}revoked \d{4}-\d\d-\d\dT/);
        expect((await site(['client', 'revoke', 'PC-REVOKE'])).out).toMatch(/^PC-REVOKE was already revoked \(on \d{4}-/);
        expect(await site(['client', 'revoke', 'PC-NOBODY'])).toMatchObject({
          code: 2,
          err: 'patchscan: NOT_FOUND: no client named "PC-NOBODY"\n',
        });

        const again = await site(['client', 'enroll', 'PC-REVOKE']);
        expect(again.out).toMatch(/^Enrolled PC-REVOKE \(it had been revoked on \d{4}-[^)]*; it is enrolled again\)/);
        expect(await uploadAs('PC-REVOKE', tokenIn(again))).toBe(202);
        expect(await uploadAs('PC-REVOKE', token)).toBe(401);
        expect(await listLine('PC-REVOKE')).not.toMatch(/revoked/);
      },
    );

    it('rotate: the new token works, the old one gets 401; an unknown name and a revoked client are refused', async () => {
      const old = tokenIn(await site(['client', 'enroll', 'PC-ROTATE']));
      expect(await uploadAs('PC-ROTATE', old)).toBe(202);
      const r = await site(['client', 'rotate', 'PC-ROTATE']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^New token for PC-ROTATE; the old one no longer works/);
      const fresh = tokenIn(r);
      expect(fresh).not.toBe(old);
      expect(await uploadAs('PC-ROTATE', old)).toBe(401);
      expect(await uploadAs('PC-ROTATE', fresh)).toBe(202);
      expect(await listLine('PC-ROTATE')).toMatch(/ 2 inventory\(ies\)/); // its history is its own still

      const unknown = await site(['client', 'rotate', 'PC-TYPO']);
      expect(unknown.code).toBe(2);
      expect(unknown.err).toMatch(/^patchscan: NOT_FOUND: no client named "PC-TYPO"/);
      expect(await listLine('PC-TYPO')).toBeUndefined(); // a typo does not create a client
      expect((await site(['client', 'revoke', 'PC-ROTATE'])).code).toBe(0);
      const revoked = await site(['client', 'rotate', 'PC-ROTATE']);
      expect(revoked.code).toBe(2);
      expect(revoked.err).toMatch(/^patchscan: BAD_ARGUMENT: PC-ROTATE was revoked on .*: enroll it again/);
      expect(await uploadAs('PC-ROTATE', fresh)).toBe(401);
    });

    it(
      'remove: warns and keeps everything without --yes; with it the client, its ' + 'inventories and results go, and its token gets 401',
      async () => {
        const token = tokenIn(await site(['client', 'enroll', 'PC-REMOVE']));
        expect(await uploadAs('PC-REMOVE', token)).toBe(202);
        expect(await uploadAs('PC-REMOVE', token)).toBe(202);
        await waitScanned('PC-REMOVE');

        const warn = await site(['client', 'remove', 'PC-REMOVE']);
        expect(warn.code).toBe(3);
        expect(warn.out).toMatch(
          /^Removing PC-REMOVE deletes its 2 stored inventory\(ies\) \([\d.]+ (B|KiB|MiB)\) and its scan results; its token stops working\. This cannot be undone\.\n\nNothing removed\. Run again with --yes/,
        );
        expect(await uploadAs('PC-REMOVE', token)).toBe(202); // nothing happened
        expect(await listLine('PC-REMOVE')).toMatch(/ 3 inventory\(ies\)/);

        const r = await site(['client', 'remove', 'PC-REMOVE', '--yes']);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/\nRemoved PC-REMOVE: 3 inventory\(ies\) and 1 scan result\(s\) deleted\.\n$/);
        expect(await uploadAs('PC-REMOVE', token)).toBe(401);
        expect(await listLine('PC-REMOVE')).toBeUndefined();
        expect(await adminGet('/v1/computers/PC-REMOVE/compliance', admin)).toBe(404);
        expect((await site(['compliance', 'PC-REMOVE'])).code).toBe(2);
        expect(await site(['client', 'remove', 'PC-REMOVE', '--yes'])).toMatchObject({
          code: 2,
          err: 'patchscan: NOT_FOUND: no client named "PC-REMOVE"\n',
        });
        // The others are untouched, and the site still works for them.
        expect(await listLine('PC-ROTATE')).toBeDefined();
        expect(await adminGet('/v1/summary', admin)).toBe(200);
      },
    );

    it('admin-token reset: the new token is the admin token from then on; the old one gets 401', async () => {
      expect(await adminGet('/v1/summary', admin)).toBe(200);
      const r = await site(['admin-token', 'reset']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^The admin token of .* was replaced; the old one no longer works\.\nAdmin token \(shown once/);
      const fresh = tokenIn(r);
      expect(fresh).toMatch(/^psa_/);
      expect(await adminGet('/v1/summary', admin)).toBe(401);
      expect(await adminGet('/v1/summary', fresh)).toBe(200);
      admin = fresh;
      // Not a site: nothing to reset.
      const none = await run(['admin-token', 'reset', '--data', join(dir, 'not-a-site')]);
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/^patchscan: NOT_FOUND: .*not-a-site is not a patchscan site/);
    });

    it('enroll --from names.txt --out tokens.csv: one token per name in a file only its owner can read', async () => {
      const names = join(dir, 'names.txt');
      writeFileSync(names, '\uFEFFPC-BULK-1\r\n  PC-BULK-2  \r\n\r\nPC-ROTATE\r\nPC-BULK,3\r\n'); // Windows line ends, a BOM, a blank line
      const out = join(dir, 'tokens.csv');
      const r = await site(['client', 'enroll', '--from', names, '--out', out]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(
        `Enrolled 4 client(s) (1 revoked enrolled again). Their tokens are in ${out} (computer,token; readable by its owner only).\n`,
      );
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const lines = readFileSync(out, 'utf8').split('\r\n');
      expect(lines[0]).toBe('computer,token');
      expect(lines.at(-1)).toBe('');
      const rows = lines.slice(1, -1).map((l) => /^(.*),(pst_[A-Za-z0-9_-]{43})$/.exec(l)!.slice(1));
      expect(rows.map((x) => x[0])).toEqual(['PC-BULK-1', 'PC-BULK-2', 'PC-ROTATE', '"PC-BULK,3"']);
      for (const [name, token] of rows.slice(0, 3)) expect(await uploadAs(name, token), name).toBe(202);
      // A token cut from the file with its CRLF line end still works; one with a control character inside is a usage error.
      expect(await uploadAs('PC-BULK-1', `${rows[0][1]}\r`)).toBe(202);
      const bad = await run(['upload', '--server', url, '--token', `pst_a\rb`, inventoryFile('PC-BULK-1')]);
      expect([bad.code, bad.err]).toEqual([
        2,
        'patchscan: BAD_ARGUMENT: --token: a token is one word of printable ASCII (pst_…), as "client enroll" printed it\n',
      ]);
      expect(await uploadAs('PC-BULK,3', rows[3][1])).toBe(202);
      expect(await listLine('PC-BULK-2')).toBeDefined();
      expect(r.err).toBe('');
      // No temporary file is left next to it.
      expect(readFileSync(out, 'utf8')).not.toBe('');
      expect((await import('node:fs')).readdirSync(dir).filter((f) => f.includes('tokens.csv'))).toEqual(['tokens.csv']);
    });

    it('enroll --from refuses to overwrite an existing --out unless --force (the file stays owner-only)', async () => {
      const names = join(dir, 'names-2.txt');
      writeFileSync(names, 'PC-BULK-4\n');
      const out = join(dir, 'existing.csv');
      writeFileSync(out, 'computer,token\r\nPC-OLD,pst_still-in-use\r\n');
      chmodSync(out, 0o644);
      const refused = await site(['client', 'enroll', '--from', names, '--out', out]);
      expect(refused.code).toBe(2);
      expect(refused.err).toBe(
        `patchscan: BAD_ARGUMENT: ${out} exists: it may hold tokens still in use; ` +
          `choose another file or add --force. Nothing was enrolled.\n`,
      );
      expect(readFileSync(out, 'utf8')).toContain('pst_still-in-use');
      expect(await listLine('PC-BULK-4')).toBeUndefined();

      const forced = await site(['client', 'enroll', '--from', names, '--out', out, '--force']);
      expect(forced.code, forced.err).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/^computer,token\r\nPC-BULK-4,pst_\S+\r\n$/);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(await uploadAs('PC-BULK-4', readFileSync(out, 'utf8').split(/[,\r\n]+/)[3])).toBe(202);
    });

    it('enroll --from: a bad or repeated name fails the whole batch before anything is written, naming the line', async () => {
      const before = (await site(['client', 'list'])).out;
      const out = join(dir, 'never.csv');
      const names = join(dir, 'bad.txt');
      writeFileSync(names, 'PC-NEW-1\nPC-NEW-2\nPC/BAD\nPC-NEW-3\n');
      const bad = await site(['client', 'enroll', '--from', names, '--out', out]);
      expect(bad.code).toBe(2);
      expect(bad.err).toBe(
        `patchscan: BAD_ARGUMENT: ${names}:3: client name "PC/BAD" must be 1 to 255 ` +
          `characters without slashes or control characters, not starting or ending with a blank\nNothing was enrolled or written.\n`,
      );
      // A newline or a trailing blank in a name: one broke every listing, the other made a second client look like the first.
      for (const name of ['PC-NEW\u0007X', 'PC-NEW-1 ', 'PC-NEW\u007fX']) {
        const one = await site(['client', 'enroll', name]);
        expect(one.code, name).toBe(2);
        expect(one.err).toContain(`client name ${JSON.stringify(name)} must be 1 to 255 characters without slashes or control characters`);
      }
      writeFileSync(names, 'PC-NEW-1\nPC-NEW-2\npc-new-1\n');
      const repeated = await site(['client', 'enroll', '--from', names, '--out', out]);
      expect(repeated.code).toBe(2);
      expect(repeated.err).toBe(
        `patchscan: BAD_ARGUMENT: ${names}:3: "pc-new-1" is the same computer as line 1\nNothing was enrolled or written.\n`,
      );
      writeFileSync(names, '\n \n');
      expect((await site(['client', 'enroll', '--from', names, '--out', out])).err).toMatch(/holds no names/);
      expect(existsSync(out)).toBe(false);
      expect((await site(['client', 'list'])).out).toBe(before);
      // Usage mistakes are named too.
      expect((await site(['client', 'enroll', '--from', names])).err).toMatch(/^patchscan: BAD_ARGUMENT: --from needs --out FILE/);
      expect((await site(['client', 'enroll', 'PC-X', '--from', names, '--out', out])).err).toMatch(
        /^patchscan: BAD_ARGUMENT: give a name or --from FILE, not both/,
      );
      expect((await site(['client', 'enroll'])).err).toMatch(/^patchscan: BAD_ARGUMENT: give the computer name to enroll/);
    });
  },
);

describe('the same commands on a PostgreSQL site', { timeout: 180_000 }, () => {
  it('revoke, rotate, remove, admin-token reset and bulk enrollment act on the shared database', async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    const data = join(dir, 'site');
    try {
      const site = (args: string[]): Promise<Run> => run([...args, '--data', data]);
      const init = await run(['init', '--data', data, '--database', db.url, '--test-computer', 'PC-1', '--sync-host', 'SYNC']);
      expect(init.code, init.err).toBe(0);
      const oldAdmin = tokenIn(init);
      const t1 = tokenIn(await site(['client', 'enroll', 'PC-1']));
      writeFileSync(join(dir, 'names.txt'), 'PC-2\nPC-3\n');
      expect((await site(['client', 'enroll', '--from', join(dir, 'names.txt'), '--out', join(dir, 't.csv')])).code).toBe(0);
      const rotated = tokenIn(await site(['client', 'rotate', 'PC-1']));
      expect((await site(['client', 'revoke', 'PC-2'])).code).toBe(0);
      expect((await site(['client', 'remove', 'PC-3', '--yes'])).code).toBe(0);
      const newAdmin = tokenIn(await site(['admin-token', 'reset']));
      expect((await site(['client', 'list'])).out).toMatch(/^PC-1 .*\nPC-2 .* revoked \d{4}-.*\n$/);

      const s = await Site.open(data);
      try {
        expect(s.shared).toBe(true);
        expect(await s.store.clientByToken(t1)).toBeUndefined();
        expect((await s.store.clientByToken(rotated))!.name).toBe('PC-1');
        expect((await s.store.client('PC-2'))!.revoked_at).not.toBeNull();
        expect(await s.store.client('PC-3')).toBeUndefined();
        const adminHash = await s.store.setting('admin_token_hash');
        const { sha256Hex } = await import('../../adapters/store/sql/store.js');
        expect(adminHash).toBe(sha256Hex(newAdmin));
        expect(adminHash).not.toBe(sha256Hex(oldAdmin));
      } finally {
        await s.close();
      }
    } finally {
      await db.drop();
    }
  });
});
