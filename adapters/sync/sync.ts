/**
 * Catalog sync (ITMU's sync host): fetch wsusscn2.cab from a URL or a folder, and when it is new, verify it,
 * import and compile it, and swap it in atomically; then queue a rescan of every stored inventory. On any failure
 * the last good catalog stays in service. Status messages carry ITMU's ids (6709 started, 6710 done, 6711 failed)
 * and go to the database and to logs/wsyncmgr.log.
 *
 * Integrity rules:
 *  - One sync per site at a time (lock.ts): a second one answers 'busy' at once and changes nothing.
 *  - Each attempt unpacks into a directory of its own (sync/attempt-*), empty at the start and removed at the end
 *    whatever happens; ones left by a killed process are removed by the next sync (which holds the lock, so no
 *    attempt can still be using them). Nothing a rejected cabinet carried can reach a later import.
 *  - The catalog is compiled into a file name unique to the attempt and renamed into place inside the transaction
 *    that records it, so a failed attempt never removes or changes a catalog in service or in the catalogs table:
 *    on failure only the attempt's own temporary files are removed.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import { importCatalog, sha256File, type ImportPhase } from '../catalog/import.js';
import type { Site } from '../site/site.js';
import { ScanService } from '../site/scan-service.js';
import { readAuthenticode } from './authenticode.js';
import { download } from './download.js';
import { publishCatalogFile } from '../site/catalog-files.js';
import { acquireSyncLock } from './lock.js';
import { SyncLog } from './sync-log.js';

export const MSG_SYNC_STARTED = 6709;
export const MSG_SYNC_DONE = 6710;
export const MSG_SYNC_FAILED = 6711;

/** Where a sync is: downloading (or copying from a folder), checking the cabinet's hash, then the import's phases. */
export interface SyncProgress {
  readonly phase: 'download' | 'copy' | 'verify' | ImportPhase;
  readonly done: number;
  /** 0 when not known (a server that does not send the size). */
  readonly total: number;
  readonly unit: 'bytes' | 'files' | 'steps';
  readonly detail?: string;
}

export interface SyncResult {
  /** 'busy': another sync of this site is running; this one did nothing (error.code SYNC_BUSY). */
  readonly outcome: 'updated' | 'unchanged' | 'failed' | 'busy';
  readonly catalogId?: number;
  readonly message: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** Clients queued for a rescan against the new catalog. */
  readonly rescans: number;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

const ATTEMPT_PREFIX = 'attempt-';
/** An attempt's compiled catalog before it is recorded (and what writeFileAtomic makes of that name). */
const ATTEMPT_CATALOG = /\.pscat\.attempt-[0-9a-f]+-[0-9]+\.tmp(\.[0-9]+\.[0-9]+\.tmp)?$/;

/**
 * Removes what earlier attempts left when they were killed: attempt directories, the shared work directory of
 * older versions, and uncommitted compiled catalogs. Only called while holding the sync lock.
 */
function removeStaleAttempts(site: Site, say: (text: string) => void): void {
  const gone: string[] = [];
  if (existsSync(site.syncDir)) {
    for (const f of readdirSync(site.syncDir)) {
      if (f.startsWith(ATTEMPT_PREFIX) || f === 'work') {
        rmSync(join(site.syncDir, f), { recursive: true, force: true });
        gone.push(`sync/${f}`);
      }
    }
  }
  if (existsSync(site.catalogsDir)) {
    for (const f of readdirSync(site.catalogsDir)) {
      if (ATTEMPT_CATALOG.test(f)) {
        rmSync(join(site.catalogsDir, f), { force: true });
        gone.push(`catalogs/${f}`);
      }
    }
  }
  if (gone.length > 0) say(`Removed what an interrupted sync left: ${gone.join(', ')}`);
}

/** The cabinet an administrator left in a folder: wsusscn2.cab, else the only .cab there. */
function cabInFolder(dir: string): string {
  const named = join(dir, 'wsusscn2.cab');
  if (existsSync(named)) return named;
  const cabs = readdirSync(dir).filter((f) => /\.cab$/i.test(f));
  if (cabs.length === 1) return join(dir, cabs[0]!);
  throw new PatchscanError(
    'CATALOG_MISSING_FILE',
    `${dir} holds ${cabs.length === 0 ? 'no' : 'several'} .cab file(s) and no ` +
      `wsusscn2.cab: put the downloaded catalog there as wsusscn2.cab`,
    { file: dir },
  );
}

export async function runSync(
  site: Site,
  opts: { source?: string; onLog?: (line: string) => void; onProgress?: (p: SyncProgress) => void } = {},
): Promise<SyncResult> {
  const store = site.store;
  const log = new SyncLog(site.logsDir);
  const say = (text: string): void => {
    log.write(text);
    opts.onLog?.(text);
  };
  const configured = opts.source ?? site.config.sync.source;
  if (!configured)
    throw new PatchscanError('BAD_ARGUMENT', 'no sync source: give --source URL|FOLDER, or set sync.source in patchscan.json');
  const source: string = configured;
  mkdirSync(site.syncDir, { recursive: true });
  const lock = await acquireSyncLock(store);
  if (!lock.acquired) {
    const why = `another sync of this site is running (${lock.holder})`;
    // On record as a 6711 (this sync did not run), saying plainly that nothing changed.
    const kept = await store.currentCatalog();
    const text =
      `SMS Legacy Update Synchronization not started: SYNC_BUSY: ${why}. Nothing was ` +
      `changed${kept ? `; catalog ${kept.sha256.slice(0, 16)} stays in service` : ''}.`;
    await store.addSyncMessage(MSG_SYNC_FAILED, 'Error', text, kept?.id ?? null);
    say(`Message ${MSG_SYNC_FAILED}: ${text}`);
    return { outcome: 'busy', message: `${why}; try again when it has finished`, error: { code: 'SYNC_BUSY', message: why }, rescans: 0 };
  }
  try {
    return await locked();
  } finally {
    try {
      await lock.release();
    } catch (e) {
      // The process is ending or the database is gone; a lock whose pid is dead is taken over by the next sync.
      say(`Could not release the sync lock: ${(e as Error).message}`);
    }
  }

  async function locked(): Promise<SyncResult> {
    if (lock.acquired && lock.tookOverFrom) say(`took over the sync lock of ${lock.tookOverFrom}: that process is gone`);
    await store.addSyncMessage(MSG_SYNC_STARTED, 'Informational', `SMS Legacy Update Synchronization started (source ${source})`);
    say(`Message ${MSG_SYNC_STARTED}: SMS Legacy Update Synchronization started; source ${source}`);
    // This attempt's own files: a scratch directory, and the compiled catalog until it is recorded.
    let attempt: string | undefined;
    let tmpCatalog: string | undefined;
    try {
      removeStaleAttempts(site, say);
      const cab = join(site.syncDir, 'wsusscn2.cab');
      let origin = source; // where the cabinet came from: the URL, or the file a folder source holds
      if (isUrl(source)) {
        const etag = await store.setting('sync_etag');
        const lastModified = await store.setting('sync_last_modified');
        const progress = opts.onProgress;
        let reported = -Infinity;
        let reportedAt = 0;
        const onBytes =
          progress &&
          ((done: number, total: number, attempt: number): void => {
            // Reported every 256 KiB or quarter second (and at the end), not per network chunk.
            const at = Date.now();
            if (done - reported < 262_144 && at - reportedAt < 250 && done !== total && done > reported) return;
            reported = done;
            reportedAt = at;
            const detail = attempt > 1 ? `attempt ${attempt} of ${site.config.sync.retries + 1}` : basename(new URL(source).pathname);
            progress({ phase: 'download', done, total, unit: 'bytes', detail });
          });
        const r = await download(source, cab, {
          ...site.config.sync,
          ...(etag ? { etag } : {}),
          ...(lastModified ? { lastModified } : {}),
          log: say,
          ...(onBytes ? { onBytes } : {}),
        });
        if (r.status === 'notModified') {
          // Our copy is the server's; it is unchanged unless it never made it into service (then import it now).
          const cur = await store.currentCatalog();
          if (cur && existsSync(cab) && sha256File(cab) === cur.sha256)
            return unchanged('the server says the catalog has not changed (304 Not Modified)');
        } else {
          say(`Downloaded ${r.bytes} bytes${r.resumed ? ' (resumed a broken download)' : ''}`);
          if (r.etag) await store.setSetting('sync_etag', r.etag);
          else await store.deleteSetting('sync_etag');
          if (r.lastModified) await store.setSetting('sync_last_modified', r.lastModified);
          else await store.deleteSetting('sync_last_modified');
        }
      } else {
        let st;
        try {
          st = statSync(source);
        } catch (e) {
          throw new PatchscanError('IO', `cannot read the sync folder ${source}: ${(e as Error).message}`, { file: source });
        }
        const from = st.isDirectory() ? cabInFolder(source) : source;
        origin = from;
        opts.onProgress?.({ phase: 'copy', done: 0, total: 1, unit: 'steps', detail: from });
        copyFileSync(from, `${cab}.partial`);
        renameSync(`${cab}.partial`, cab);
        opts.onProgress?.({ phase: 'copy', done: 1, total: 1, unit: 'steps', detail: from });
      }
      const cabBytes = statSync(cab).size;
      let hashed = -Infinity;
      const sha256 = sha256File(cab, (n) => {
        if (n - hashed < 4 << 20 && n < cabBytes) return;
        hashed = n;
        opts.onProgress?.({ phase: 'verify', done: n, total: cabBytes, unit: 'bytes' });
      });
      const current = await store.currentCatalog();
      if (current?.sha256 === sha256) return unchanged(`the catalog is unchanged (SHA-256 ${sha256})`);

      // What is wrong with the cabinet is said of the file the admin gave (or the URL), not only of the site's copy.
      const ofOrigin = <T>(fn: () => T): T => {
        try {
          return fn();
        } catch (e) {
          if (!PatchscanError.is(e) || !e.message.includes(cab)) throw e;
          throw new PatchscanError(e.code, e.message.replaceAll(cab, `${cab} (the copy of ${origin})`), e.details, { cause: e });
        }
      };
      const signature = ofOrigin(() => readAuthenticode(cab));
      say(
        signature.signed
          ? `Authenticode signature: signer "${signature.signer}", signed ${signature.signedAt ?? 'at an unknown time'}`
          : `No Authenticode signature (${signature.why})`,
      );
      mkdirSync(site.catalogsDir, { recursive: true });
      const known = await store.catalogBySha(sha256);
      let compiled: { path: string; out: string; revisions: number } | undefined;
      if (!(known && existsSync(known.path))) {
        attempt = mkdtempSync(join(site.syncDir, ATTEMPT_PREFIX));
        // The name the catalog will have: its SHA-256 prefix, unless a recorded catalog of another cabinet has it.
        let out = join(site.catalogsDir, `${sha256.slice(0, 16)}.pscat`);
        if (await store.catalogAtPath(out, sha256)) out = join(site.catalogsDir, `${sha256}.pscat`);
        tmpCatalog = join(site.catalogsDir, `${basename(out)}.${ATTEMPT_PREFIX}${randomBytes(6).toString('hex')}-${process.pid}.tmp`);
        const r = ofOrigin(() =>
          importCatalog(cab, { out: tmpCatalog!, workDir: attempt, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }),
        );
        compiled = { path: tmpCatalog, out, revisions: r.catalog.updates.count };
      }
      // The swap, one transaction: record the catalog, rename its file into place (and sync the directory) before
      // the commit that points anything at it, point the site at it, record the message. If any step fails nothing
      // is recorded and no file in service or on record is touched.
      const { catalogId, revisions } = await store.transaction(async (store) => {
        const now = await store.catalogBySha(sha256);
        let id: number;
        if (now && existsSync(now.path)) {
          id = now.id; // already compiled (or committed meanwhile by a writer that took no lock): its file stays as it is
        } else {
          if (!compiled) throw new PatchscanError('INTERNAL', `catalog ${sha256.slice(0, 16)} lost its file while this sync ran`);
          // A recorded catalog whose file is gone (deleted, or the data directory moved) gets its file back here.
          id =
            now?.id ??
            (await store.addCatalog({
              sha256,
              source,
              path: compiled.out,
              revisions: compiled.revisions,
              signer: signature.signed ? signature.signer : null,
              signed_at: signature.signed ? (signature.signedAt ?? null) : null,
            }));
          if (now && now.path !== compiled.out) await store.setCatalogPath(id, compiled.out);
          renameSync(compiled.path, compiled.out);
          syncDirectory(site.catalogsDir);
        }
        // A shared site's processes on other machines fetch the compiled catalog from the database.
        if (site.shared && !(await store.catalogFileDigest(id))) await publishCatalogFile(store, id, (await store.catalog(id))!.path);
        const n = (await store.catalog(id))!.revisions;
        await store.setSetting('current_catalog', String(id));
        await store.addSyncMessage(
          MSG_SYNC_DONE,
          'Informational',
          `SMS Legacy Update Synchronization done: new catalog ${sha256.slice(0, 16)} with ${n} revisions`,
          id,
        );
        return { catalogId: id, revisions: n };
      });
      say(`Message ${MSG_SYNC_DONE}: SMS Legacy Update Synchronization done; catalog ${sha256} (${revisions} revisions) is now in service`);
      const scans = new ScanService(site);
      // Before the rescans are queued: the diff the carry-over of every client's result set reads, made once here.
      if (current && current.id !== catalogId) say(`Carry-over: ${await scans.prepareCarryOver(current.id)}`);
      const rescans = await scans.rescanAll('new catalog');
      say(`Queued ${rescans} client(s) for a rescan against the new catalog`);
      return {
        outcome: 'updated',
        catalogId,
        message: `new catalog ${sha256.slice(0, 16)} (${revisions} revisions) in service; ${rescans} client(s) queued for a rescan`,
        rescans,
      };
    } catch (e) {
      const error = PatchscanError.is(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
      const kept = await store.currentCatalog();
      const text =
        `SMS Legacy Update Synchronization failed: ${error.code}: ${error.message}. ` +
        `${kept ? `The last good catalog (${kept.sha256.slice(0, 16)}) stays in service.` : 'No catalog is in service yet.'}`;
      await store.addSyncMessage(MSG_SYNC_FAILED, 'Error', text, kept?.id ?? null);
      say(`Message ${MSG_SYNC_FAILED}: ${text}`);
      return { outcome: 'failed', message: text, error, rescans: 0 };
    } finally {
      // Only this attempt's own files; never a catalog that is recorded or in service.
      if (tmpCatalog) rmSync(tmpCatalog, { force: true });
      if (attempt) rmSync(attempt, { recursive: true, force: true });
    }
  }

  async function unchanged(why: string): Promise<SyncResult> {
    const cur = await store.currentCatalog();
    await store.addSyncMessage(
      MSG_SYNC_DONE,
      'Informational',
      `SMS Legacy Update Synchronization done: ${why}; nothing rewritten`,
      cur?.id ?? null,
    );
    say(`Message ${MSG_SYNC_DONE}: SMS Legacy Update Synchronization done; ${why}`);
    return { outcome: 'unchanged', ...(cur ? { catalogId: cur.id } : {}), message: why, rescans: 0 };
  }
}
