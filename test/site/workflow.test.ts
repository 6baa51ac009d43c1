/**
 * The whole ITMU workflow as an administrator runs it, through the real CLI: init (the seed's objects), verify and
 * verify --repair, remove (with its warning), sync from a folder, enroll, serve (a child process on loopback),
 * upload, compliance, the pilot → unlimit step, an expedited rescan. The README shows this session.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startServe, runCli, type CliRun } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

const run = (args: readonly string[]): CliRun => runCli(args);

describe('the site workflow through the CLI', () => {
  const dir = tempDir();
  const data = join(dir, 'site');
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it("init creates the seed's package, programs, collections and advertisements; verify finds them all", () => {
    const r = run(['init', '--data', data, '--sync-host', 'SYNC-HOST', '--test-computer', 'PC-0000000']);
    expect(r.code, r.err).toBe(0);
    for (const name of [
      'package Microsoft Corporation Microsoft Updates Tool 2.0 ALL',
      'program Microsoft Updates Tool\n',
      'program Microsoft Updates Tool (expedited)',
      'program Microsoft Updates Tool x64\n',
      'program Microsoft Updates Tool x64 (expedited)',
      'program Microsoft Updates Tool IA64\n',
      'program Microsoft Updates Tool IA64 (expedited)',
      'program Microsoft Updates Tool Sync',
      'collection Microsoft Updates Tool\n',
      'collection Microsoft Updates Tool (pre-production)',
      'collection Microsoft Updates Tool x64',
      'collection Microsoft Updates Tool IA64',
      'collection Microsoft Updates Tool Sync',
    ])
      expect(r.out).toContain(`  ${name}`);
    expect(r.out).toMatch(/Admin token \(shown once; reports and the web console need it\):\n {2}psa_[A-Za-z0-9_-]{43}\n/);
    expect(r.out).toContain('Test computer (pre-production): PC-0000000; sync host: SYNC-HOST');
    expect(run(['verify', '--data', data]).out).toMatch(/^All objects are present/);
    const again = run(['init', '--data', data]);
    expect(again.out).toContain('All objects were already present.');
    expect(again.out).not.toContain('Admin token');
    expect(again.out).toContain('Test computer (pre-production): PC-0000000; sync host: SYNC-HOST'); // a rerun changes nothing
    // The names are the seed's by default, and overridable.
    writeFileSync(
      join(dir, 'names.json'),
      JSON.stringify({ package: 'Contoso Updates Tool', collections: { pilot: 'Contoso Pilot Ring' } }),
    );
    // A names file that cannot be read leaves nothing behind (a half-made site then refused every command).
    const missing = run(['init', '--data', join(dir, 'other'), '--names', join(dir, 'no-such-names.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^patchscan: BAD_ARGUMENT: --names .*no-such-names\.json: .*Nothing was created\.\n$/);
    expect(existsSync(join(dir, 'other'))).toBe(false);
    const other = run(['init', '--data', join(dir, 'other'), '--names', join(dir, 'names.json'), '--sync-host', 'S1']);
    expect(other.out).toContain('  package Contoso Updates Tool\n');
    expect(other.out).toContain('  collection Contoso Pilot Ring\n');
    expect(other.out).toContain('  collection Microsoft Updates Tool x64\n');
    expect(run(['collection', 'show', 'Contoso Pilot Ring', '--data', join(dir, 'other')]).out).toBe(
      'Contoso Pilot Ring\n  query: direct members only\n  member S1\n',
    );
  });

  it('verify reports what is missing and --repair recreates it; remove warns first and takes collections and advertisements', () => {
    const db = new Database(join(data, 'patchscan.db'));
    db.pragma('foreign_keys = ON');
    db.prepare("DELETE FROM programs WHERE name = 'Microsoft Updates Tool IA64'").run();
    db.prepare("DELETE FROM collection_members WHERE computer = 'PC-0000000'").run();
    db.close();
    const v = run(['verify', '--data', data]);
    expect(v.code).toBe(3);
    expect(v.out).toContain('Problem: program "Microsoft Updates Tool IA64" is missing');
    expect(v.out).toContain('Problem: advertisement "Microsoft Updates Tool IA64 → Microsoft Updates Tool IA64" is missing');
    expect(v.out).toContain('Problem: member "PC-0000000" is not a member of Microsoft Updates Tool (pre-production)');
    expect(v.out).toContain('Run "patchscan verify --repair"');
    const fix = run(['verify', '--data', data, '--repair']);
    expect(fix.code, fix.err).toBe(0);
    expect(fix.out).toContain('Repaired 3 object(s).');
    expect(run(['verify', '--data', data]).code).toBe(0);

    const warn = run(['remove', '--data', data]);
    expect(warn.code).toBe(3);
    expect(warn.out).toMatch(/^Removing the tool also removes its 6 collection\(s\) and 9 advertisement\(s\):/);
    expect(warn.out).toContain('  collection    Microsoft Updates Tool (pre-production)');
    expect(warn.out).toContain('Nothing removed.');
    expect(run(['verify', '--data', data]).code).toBe(0);
    expect(run(['remove', '--data', data, '--yes']).out).toContain('Removed.');
    expect(run(['verify', '--data', data]).out).toContain('Problem: collection "Microsoft Updates Tool" is missing');
    expect(run(['verify', '--data', data, '--repair']).code).toBe(0);
    expect(run(['verify', '--data', data]).code).toBe(0);
  });

  it('sync, enroll, serve, upload, compliance; the pilot, then unlimit; an expedited rescan', async () => {
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    copyFileSync(BUNDLED, join(drop, 'wsusscn2.cab'));
    const s = run(['sync', '--data', data, '--source', drop]);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toMatch(/^Sync updated: new catalog [0-9a-f]{16} \(3000 revisions\) in service/);
    expect(run(['sync', '--data', data, '--source', drop]).out).toMatch(/^Sync unchanged/);
    const status = run(['sync', 'status', '--data', data]).out;
    expect(status).toMatch(/^Catalog in service: [0-9a-f]{64} \(3000 revisions, imported .*, unsigned\)/);
    expect(status.match(/ 6710 {2}Informational/g)).toHaveLength(2);
    // --json: the fields report sync --json and GET /v1/sync give (camelCase), and the compiled file's path.
    const json = JSON.parse(run(['sync', 'status', '--data', data, '--json']).out) as Record<string, any>;
    expect(Object.keys(json.catalog).sort()).toEqual(['id', 'importedAt', 'path', 'revisions', 'sha256', 'signedAt', 'signer', 'source']);
    expect(Object.keys(json.messages[0]).sort()).toEqual(['at', 'catalogId', 'id', 'messageId', 'severity', 'text']);
    expect(json.messages.filter((m: { messageId: number }) => m.messageId === 6710)).toHaveLength(2);

    const catalog = join(
      data,
      'catalogs',
      (run(['sync', 'status', '--data', data, '--json']).out.match(/"path": ".*\/([0-9a-f]{16}\.pscat)"/) ?? [])[1],
    );
    expect(run(['corpus', 'fleet', '-c', catalog, '-n', '3', '-s', '4', '-o', join(dir, 'f.jsonl')]).code).toBe(0);
    const lines = readFileSync(join(dir, 'f.jsonl'), 'utf8').trim().split('\n');
    lines.forEach((l, i) => writeFileSync(join(dir, `pc${i}.json`), l));
    const token = (name: string): string => /\n {2}(pst_\S+)\n/.exec(run(['client', 'enroll', name, '--data', data]).out)![1];
    const t0 = token('PC-0000000');
    const t1 = token('PC-0000001');

    const started = await startServe(data);
    server = started.child;
    const url = started.url;
    const u0 = run(['upload', '--server', url, '--token', t0, join(dir, 'pc0.json')]);
    expect(u0.code, u0.err).toBe(0);
    expect(u0.out).toMatch(/^Accepted \(normal scan queued by Microsoft Updates Tool/);
    const u1 = run(['upload', '--server', url, '--token', t1, join(dir, 'pc1.json')]);
    expect(u1.out).toContain('no advertised collection targets this computer yet');
    const wrong = run(['upload', '--server', url, '--token', t1, join(dir, 'pc0.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toBe(
      `patchscan: upload of ${join(dir, 'pc0.json')} refused: 403 FORBIDDEN: this token belongs to PC-0000001; it cannot upload the inventory of PC-0000000\n`,
    );

    const waitFor = async (name: string): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const c = run(['compliance', name, '--data', data]);
        if (c.code === 0) return c.out;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name} was never scanned`);
    };
    expect(await waitFor('PC-0000000')).toMatch(
      /^PC-0000000 \(\w+\) scanned .* by "Microsoft Updates Tool[^"]*", catalog [0-9a-f]{16}: Required \d+, Installed \d+, Unknown \d+; Required but superseded \d+, possibly superseded \d+\n/,
    );
    expect(run(['compliance', 'PC-0000001', '--data', data]).err).toMatch(
      /^patchscan: NOT_FOUND: PC-0000001 has not been scanned yet: no advertised collection targets it \(architecture \w+\)/,
    );

    const un = run(['collection', 'unlimit', 'Microsoft Updates Tool', '--data', data]);
    expect(un.out).toMatch(
      /^"Microsoft Updates Tool" is no longer limited; it has \d+ member\(s\)\. Queued 2 stored inventory\(ies\) for a scan\./,
    );
    expect(await waitFor('PC-0000001')).toMatch(/^PC-0000001 /);
    const re = run(['rescan', 'PC-0000001', '--expedited', '--data', data]);
    expect(re.code, re.err).toBe(0);
    expect(re.out).toMatch(
      /^Scanned PC-0000001 now \(Microsoft Updates Tool[^)]*\(expedited\)\): Required \d+, Installed \d+, Unknown \d+; Required but superseded \d+, possibly superseded \d+/,
    );
    expect(run(['compliance', '--data', data]).out).toMatch(/^Clients 2, scanned 2, compliant \d+; /);

    // Reports: the same data as table, JSON and CSV.
    const comp = JSON.parse(run(['report', 'computer', 'PC-0000000', '--data', data, '--json']).out) as {
      counts: Record<string, number>;
      updates: { kb: string; state: string }[];
    };
    const csv = run(['report', 'computer', 'PC-0000000', '--data', data, '--csv']).out.trim().split('\r\n');
    expect(csv[0]).toBe(
      'computer,kb,title,classification,severity,releaseDate,cves,moreInfoUrl,state,superseded,possiblySuperseded,reason,scannedAt,catalog',
    );
    expect(csv).toHaveLength(comp.updates.length + 1);
    // Listed Required rows: the counting rule's Required and the possibly superseded; superseded ones are hidden.
    expect(comp.updates.filter((u) => u.state === 'Required')).toHaveLength(comp.counts.Required + comp.counts.possiblySuperseded);
    const table = run(['report', 'computer', 'PC-0000000', '--data', data]).out;
    expect(table).toMatch(
      /^PC-0000000 \(\w+\) scanned .*: Required \d+, Installed \d+, Unknown \d+; Required but superseded \d+, possibly superseded \d+\n\nstate +superseded +kb +released +classification +severity +cves +title\n/,
    );
    const kb = comp.updates.find((u) => u.kb)!.kb;
    const upd = JSON.parse(run(['report', 'update', `KB${kb}`, '--data', data, '--json']).out) as {
      update: { kb: string };
      updates: { counts: Record<string, number> }[];
      machines: { total: number; items: { computer: string }[] };
    };
    expect(upd.update.kb).toBe(kb);
    expect(upd.machines.items.map((m) => m.computer)).toContain('PC-0000000');
    // One row per machine and update of the KB; superseded Required rows are not listed by default.
    const listed = upd.updates.reduce(
      (a, u) => a + u.counts.Installed + u.counts.Required + u.counts.possiblySuperseded + u.counts.Unknown,
      0,
    );
    expect(listed).toBe(upd.machines.total);
    const cols = JSON.parse(run(['report', 'collections', '--data', data, '--json']).out) as { name: string; scanned: number }[];
    expect(cols.find((c) => c.name === 'Microsoft Updates Tool')!.scanned).toBe(2);
    expect(run(['report', 'classifications', '--data', data, '--csv']).out.split('\r\n')[0]).toBe(
      'name,installed,required,superseded,possiblySuperseded,unknown',
    );
    expect(run(['report', 'stale', '--days', '1', '--data', data]).out).toMatch(/^0 client\(s\) have not reported for 1 day\(s\)/);
    expect(run(['report', 'sync', '--data', data]).out).toContain('SMS Legacy Update Synchronization done');
    expect(JSON.parse(run(['report', 'trend', '--data', data, '--json']).out)).toEqual([
      expect.objectContaining({ clients: 2, scanned: 2 }),
    ]);
    // The table shows every count the CSV and JSON have (superseded ones apart, as every report counts them).
    expect(run(['report', 'trend', '--data', data]).out.split('\n')[0].trim().split(/\s+/)).toEqual([
      'day',
      'clients',
      'scanned',
      'compliant',
      'installed',
      'required',
      'superseded',
      'possiblySuperseded',
      'unknown',
    ]);
    expect(run(['report', 'update', 'KB0', '--data', data]).err).toBe('patchscan: NOT_FOUND: no update KB0 in the catalog in service\n');

    server.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => server!.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    server = undefined;
  }, 120_000); // a dozen CLI processes, a server and real scans: ~15 s on a quiet 2-core machine, more when it is busy
});
