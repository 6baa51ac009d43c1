/**
 * `patchscan client enroll | list | rotate | revoke | remove` and `patchscan admin-token reset`: the clients that
 * upload inventories, their tokens from first to last, and the site's admin token.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ioError, PatchscanError } from '../../../engine/errors.js';
import { csvCell } from '../../text/csv.js';
import { computerKey } from '../../store/computer-name.js';
import { clientNameProblem, sha256Hex } from '../../store/sql/store.js';
import { print, requireInit, siteOptions, withSite, type SiteOptions } from './site-options.js';

const UPLOAD_HINT = 'On the client: patchscan upload --server URL --token TOKEN inventory.json';

export function addClientCommands(program: Command): void {
  const client = program.command('client').description('clients that upload inventories: enroll, list, rotate, revoke, remove');

  siteOptions(client.command('enroll'))
    .description('issue a token for a client, or for every name in a file (stored hashed; shown once). Enrolling again replaces the token')
    .argument('[name]', 'the computer name the client will upload as')
    .option('--from <names.txt>', 'enroll every name in this file (one per line; blank lines are skipped)')
    .option(
      '--out <tokens.csv>',
      'with --from: write "computer,token" here, readable by its owner only (mode 0600); CSV with CRLF line ends (in a shell: tr -d \'\\r\')',
    )
    .option('--force', 'with --out: replace an existing file')
    .addHelpText(
      'after',
      `
One client:
  patchscan client enroll PC-0001 --data site       prints its token once
Many clients:
  patchscan client enroll --from names.txt --out tokens.csv --data site
  Every name is checked first: a bad or repeated name fails the whole batch, naming its line, and nothing is
  enrolled or written. Then all are enrolled in one transaction and the tokens written to a new file
  (computer,token; mode 0600). An existing file is refused unless --force. Names already enrolled get a new token
  (their old one stops working), and revoked ones are enrolled again: the summary counts both.
Distribute each token to its computer only; anyone holding it can upload as that computer.`,
    )
    .action((name: string | undefined, o: SiteOptions & { from?: string; out?: string; force?: boolean }) => {
      if (o.from !== undefined) {
        if (name !== undefined) throw new PatchscanError('BAD_ARGUMENT', 'give a name or --from FILE, not both');
        if (o.out === undefined)
          throw new PatchscanError('BAD_ARGUMENT', '--from needs --out FILE: the tokens are written to a file readable by its owner only');
        return enrollMany(o, o.from, o.out, o.force === true);
      }
      if (name === undefined) throw new PatchscanError('BAD_ARGUMENT', 'give the computer name to enroll, or --from FILE --out FILE');
      if (o.out !== undefined || o.force) throw new PatchscanError('BAD_ARGUMENT', '--out and --force go with --from FILE');
      return withSite(o, async (site) => {
        await requireInit(site);
        const before = await site.store.client(name);
        const token = await site.store.enroll(name);
        const was = before?.revoked_at
          ? ` (it had been revoked on ${before.revoked_at}; it is enrolled again)`
          : before?.token_hash
            ? ' (its previous token no longer works)'
            : '';
        print(
          `Enrolled ${name}${was}. Its token (shown once):\n  ${token}\nOn the client: ` +
            `patchscan upload --server URL --token ${token} inventory.json`,
        );
      });
    });

  siteOptions(client.command('list'))
    .description('clients, their architecture, last upload and last scan, stored inventories; revoked clients are marked')
    .action((o: SiteOptions) =>
      withSite(o, async (site) => {
        for (const c of await site.store.clientSummaries()) {
          const status = c.revoked_at ? `  revoked ${c.revoked_at}` : c.token_hash ? '' : '  (not enrolled)';
          print(
            `${c.name.padEnd(24)} ${(c.architecture ?? '-').padEnd(6)} upload ` +
              `${c.last_upload_at ?? '-'}  scan ${c.last_scan_at ?? '-'}  ${c.inventories} ` +
              `inventory(ies), ${formatBytes(c.stored_bytes)}${status}`,
          );
        }
      }),
    );

  siteOptions(client.command('rotate'))
    .description('issue a new token for an enrolled client; its old token stops working at once')
    .argument('<name>', 'the client')
    .addHelpText(
      'after',
      `
Like "client enroll" for a client that exists, but refuses a name the site does not know (a typo does not create
a client) and a revoked client (enroll it again to give it a token). Its inventories and results are kept.
Install the new token on the computer: its uploads with the old one are refused (401) from now on.`,
    )
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const token = await site.store.rotateToken(name);
        print(
          `New token for ${(await site.store.client(name))!.name}; the old one no longer ` +
            `works. Its token (shown once):\n  ${token}\n` +
            `${UPLOAD_HINT.replace('TOKEN', token)}`,
        );
      }),
    );

  siteOptions(client.command('revoke'))
    .description("take a client's token away: its uploads and reports are refused (401) at once; its data stays")
    .argument('<name>', 'the client')
    .addHelpText(
      'after',
      `
The client's stored inventories, its latest scan and its place in reports are kept; "client list" shows it as
revoked. "client enroll NAME" gives it a new token later; "client remove NAME --yes" deletes it and its data.`,
    )
    .action((name: string, o: SiteOptions) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const changed = await site.store.revoke(name);
        const c = (await site.store.client(name))!;
        print(
          changed
            ? `Revoked ${c.name}: its token no longer works. Its inventories and results are ` +
                `kept ("patchscan client remove ${c.name}" deletes them).`
            : `${c.name} was already revoked (on ${c.revoked_at}).`,
        );
      }),
    );

  siteOptions(client.command('remove'))
    .description('delete a client with its stored inventories and scan results (warns; needs --yes)')
    .argument('<name>', 'the client')
    .option('--yes', 'really delete them')
    .addHelpText(
      'after',
      `
Deletes the client, every inventory it uploaded, its latest scan (its compliance disappears from reports) and its
queued scans; its token stops working. Direct collection memberships are rules by name and stay (a computer
enrolled again under that name is a member again). Without --yes it only says what would go (exit status 3).
To keep the data and only stop the client, use "client revoke".`,
    )
    .action((name: string, o: SiteOptions & { yes?: boolean }) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const [c] = await site.store.clientSummaries(name);
        if (!c) throw new PatchscanError('NOT_FOUND', `no client named ${JSON.stringify(name)}`);
        const scanned = (await site.store.lastScan(c.id)) !== undefined;
        print(
          `Removing ${c.name} deletes its ${c.inventories} stored inventory(ies) (` +
            `${formatBytes(c.stored_bytes)})${scanned ? ' and its scan results' : ''}; its ` +
            `token stops working. This cannot be undone.`,
        );
        if (!o.yes) {
          print('\nNothing removed. Run again with --yes to remove it, or use "patchscan client revoke" to keep its data.');
          process.exitCode = 3;
          return;
        }
        const r = await site.store.removeClient(c.name);
        if (!r) throw new PatchscanError('NOT_FOUND', `no client named ${JSON.stringify(name)} (removed meanwhile)`);
        print(`Removed ${r.name}: ${r.inventories} inventory(ies) and ${r.scans} scan result(s) deleted.`);
      }),
    );

  const admin = program.command('admin-token').description("the site's admin token (reports, the web console)");
  siteOptions(admin.command('reset'))
    .description('replace the admin token (when it is lost or leaked): prints a new one once; the old one stops working')
    .addHelpText(
      'after',
      `
This works only with local access to the site's database — there is no way to do it over HTTP:
  SQLite (the default): write access to the site's database file (site/patchscan.db), so run it on the server as
  the account that owns the site directory.
  PostgreSQL: the database URL and credentials of the site (patchscan.json, --database or $PATCHSCAN_DATABASE).
Anyone with that access can reset the token: protect the file (or the database credentials) accordingly.
Requests with the old token are refused at once, and every web console session signed in with it is signed out
at its next request (in every "patchscan serve" process of the site).`,
    )
    .action((o: SiteOptions) =>
      withSite(o, async (site) => {
        await requireInit(site);
        const token = `psa_${randomBytes(32).toString('base64url')}`;
        // The sessions go with the old token (each one is also checked against the token hash at every request).
        await site.store.transaction(async (store) => {
          await store.setSetting('admin_token_hash', sha256Hex(token));
          await store.removeSessions();
        });
        print(
          `The admin token of ${site.dir} was replaced; the old one no longer works.\n` +
            `Admin token (shown once; reports and the web console need it):\n  ${token}`,
        );
        print('Every web console session signed in with the old token is signed out.');
      }),
    );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/** The names of a names file, checked all at once: a problem names its line. */
export function readNames(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw ioError('read the names file', file, e);
  }
  const names: string[] = [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, k) => {
      const line = k + 1;
      const name = raw.trim();
      if (name === '') return;
      const problem = clientNameProblem(name);
      if (problem) return void problems.push(`${file}:${line}: ${problem}`);
      const key = computerKey(name);
      const first = seen.get(key);
      if (first !== undefined) return void problems.push(`${file}:${line}: ${JSON.stringify(name)} is the same computer as line ${first}`);
      seen.set(key, line);
      names.push(name);
    });
  if (problems.length) {
    const more = problems.length > 10 ? `\n(and ${problems.length - 10} more)` : '';
    throw new PatchscanError('BAD_ARGUMENT', `${problems.slice(0, 10).join('\n')}${more}\nNothing was enrolled or written.`, { file });
  }
  if (names.length === 0)
    throw new PatchscanError('BAD_ARGUMENT', `${file} holds no names (one computer name per line). Nothing was enrolled or written.`, {
      file,
    });
  return names;
}

async function enrollMany(o: SiteOptions, from: string, outPath: string, force: boolean): Promise<void> {
  const names = readNames(from);
  const out = resolve(outPath);
  if (!force && existsSync(out))
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `${outPath} exists: it may hold tokens still in use; choose another file or add --force. Nothing was enrolled.`,
    );
  // The tokens go to a private file next to the output first (written and synced inside the enrolling transaction,
  // so a failed write enrolls nobody), and into place once the tokens are committed.
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await withSite(o, async (site) => {
    await requireInit(site);
    let fd: number | undefined;
    let counts: { fresh: number; replaced: number; reinstated: number };
    try {
      counts = await site.store.transaction(async (store) => {
        const c = { fresh: 0, replaced: 0, reinstated: 0 };
        const lines = ['computer,token'];
        for (const name of names) {
          const before = await store.client(name);
          if (!before) c.fresh++;
          else if (before.revoked_at) c.reinstated++;
          else if (before.token_hash) c.replaced++;
          else c.fresh++;
          lines.push(`${csvCell(name)},${await store.enroll(name)}`);
        }
        try {
          fd = openSync(tmp, 'wx', 0o600);
          writeSync(fd, `${lines.join('\r\n')}\r\n`);
          fsyncSync(fd);
          closeSync(fd);
          fd = undefined;
        } catch (e) {
          throw ioError('write the tokens file', tmp, e);
        }
        return c;
      });
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmQuiet(tmp);
      throw e;
    }
    // Committed: the tokens in `tmp` are the clients' tokens now.
    try {
      if (force) renameSync(tmp, out);
      else {
        linkSync(tmp, out); // refuses to replace a file that appeared meanwhile
        unlinkSync(tmp);
      }
    } catch (e) {
      throw new PatchscanError(
        'IO',
        `the ${names.length} client(s) are enrolled, but their tokens could not be put ` +
          `in ${outPath} (${(e as Error).message}); they are in ${tmp}`,
      );
    }
    const notes = [
      counts.replaced ? `${counts.replaced} already enrolled got a new token (their old one no longer works)` : '',
      counts.reinstated ? `${counts.reinstated} revoked enrolled again` : '',
    ]
      .filter(Boolean)
      .join('; ');
    print(
      `Enrolled ${names.length} client(s)${notes ? ` (${notes})` : ''}. Their tokens ` +
        `are in ${outPath} (computer,token; readable by its owner only).`,
    );
  });
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}
