/**
 * Catalog sync (ITMU's sync host): fetch wsusscn2.cab from a URL or a folder, and when it is new, verify it,
 * import and compile it, and swap it in atomically; then queue a rescan of every stored inventory. On any failure
 * the last good catalog stays in service. Status messages carry ITMU's ids (6709 started, 6710 done, 6711 failed)
 * and go to the database and to logs/wsyncmgr.log.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PatchscanError } from '../../engine/errors.js';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import { importCatalog, sha256File } from '../catalog/import.js';
import type { Site } from '../site/site.js';
import { SiteScanner } from '../site/scan-service.js';
import { readAuthenticode } from './authenticode.js';
import { download } from './download.js';
import { SyncLog } from './sync-log.js';

export const MSG_SYNC_STARTED = 6709;
export const MSG_SYNC_DONE = 6710;
export const MSG_SYNC_FAILED = 6711;

export interface SyncResult {
  readonly outcome: 'updated' | 'unchanged' | 'failed';
  readonly catalogId?: number;
  readonly message: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** Clients queued for a rescan against the new catalog. */
  readonly rescans: number;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** The cabinet an administrator left in a folder: wsusscn2.cab, else the only .cab there. */
function cabInFolder(dir: string): string {
  const named = join(dir, 'wsusscn2.cab');
  if (existsSync(named)) return named;
  const cabs = readdirSync(dir).filter((f) => /\.cab$/i.test(f));
  if (cabs.length === 1) return join(dir, cabs[0]!);
  throw new PatchscanError('CATALOG_MISSING_FILE', `${dir} holds ${cabs.length === 0 ? 'no' : 'several'} .cab file(s) and no wsusscn2.cab: put the downloaded catalog there as wsusscn2.cab`, { file: dir });
}

export async function runSync(site: Site, opts: { source?: string; onLog?: (line: string) => void } = {}): Promise<SyncResult> {
  const store = site.store;
  const log = new SyncLog(site.logsDir);
  const say = (text: string): void => {
    log.write(text);
    opts.onLog?.(text);
  };
  const source = opts.source ?? site.config.sync.source;
  if (!source) throw new PatchscanError('BAD_ARGUMENT', 'no sync source: give --source URL|FOLDER, or set sync.source in patchscan.json');
  await store.addSyncMessage(MSG_SYNC_STARTED, 'Informational', `SMS Legacy Update Synchronization started (source ${source})`);
  say(`Message ${MSG_SYNC_STARTED}: SMS Legacy Update Synchronization started; source ${source}`);
  mkdirSync(site.syncDir, { recursive: true });
  let out: string | undefined;
  let adopted = false;
  try {
    const cab = join(site.syncDir, 'wsusscn2.cab');
    if (isUrl(source)) {
      const etag = await store.setting('sync_etag');
      const lastModified = await store.setting('sync_last_modified');
      const r = await download(source, cab, { ...site.config.sync, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}), log: say });
      if (r.status === 'notModified') {
        // Our copy is the server's; it is unchanged unless it never made it into service (then import it now).
        const cur = await store.currentCatalog();
        if (cur && existsSync(cab) && sha256File(cab) === cur.sha256) return unchanged('the server says the catalog has not changed (304 Not Modified)');
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
      copyFileSync(from, `${cab}.partial`);
      renameSync(`${cab}.partial`, cab);
    }
    const sha256 = sha256File(cab);
    const current = await store.currentCatalog();
    if (current?.sha256 === sha256) return unchanged(`the catalog is unchanged (SHA-256 ${sha256})`);

    const signature = readAuthenticode(cab);
    say(signature.signed ? `Authenticode signature: signer "${signature.signer}", signed ${signature.signedAt ?? 'at an unknown time'}` : `No Authenticode signature (${signature.why})`);
    mkdirSync(site.catalogsDir, { recursive: true });
    const known = await store.catalogBySha(sha256);
    let catalogId: number;
    let revisions: number;
    if (known && existsSync(known.path)) {
      catalogId = known.id;
      revisions = known.revisions;
    } else {
      out = join(site.catalogsDir, `${sha256.slice(0, 16)}.pscat`);
      const r = importCatalog(cab, { out, workDir: join(site.syncDir, 'work') });
      revisions = r.catalog.updates.count;
      catalogId = known?.id ?? await store.addCatalog({ sha256, source, path: out, revisions, signer: signature.signed ? signature.signer : null, signed_at: signature.signed ? signature.signedAt ?? null : null });
    }
    // The swap: one transaction points the site at the new catalog and records the message.
    await store.transaction(async (store) => {
      await store.setSetting('current_catalog', String(catalogId));
      await store.addSyncMessage(MSG_SYNC_DONE, 'Informational', `SMS Legacy Update Synchronization done: new catalog ${sha256.slice(0, 16)} with ${revisions} revisions`, catalogId);
    });
    adopted = true;
    syncDirectory(site.catalogsDir);
    say(`Message ${MSG_SYNC_DONE}: SMS Legacy Update Synchronization done; catalog ${sha256} (${revisions} revisions) is now in service`);
    const rescans = await new SiteScanner(site).rescanAll('new catalog');
    say(`Queued ${rescans} client(s) for a rescan against the new catalog`);
    return { outcome: 'updated', catalogId, message: `new catalog ${sha256.slice(0, 16)} (${revisions} revisions) in service; ${rescans} client(s) queued for a rescan`, rescans };
  } catch (e) {
    if (out && !adopted) rmSync(out, { force: true });
    const error = PatchscanError.is(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
    const kept = await store.currentCatalog();
    const text = `SMS Legacy Update Synchronization failed: ${error.code}: ${error.message}. ${kept ? `The last good catalog (${kept.sha256.slice(0, 16)}) stays in service.` : 'No catalog is in service yet.'}`;
    await store.addSyncMessage(MSG_SYNC_FAILED, 'Error', text, kept?.id ?? null);
    say(`Message ${MSG_SYNC_FAILED}: ${text}`);
    return { outcome: 'failed', message: text, error, rescans: 0 };
  }

  async function unchanged(why: string): Promise<SyncResult> {
    const cur = await store.currentCatalog();
    await store.addSyncMessage(MSG_SYNC_DONE, 'Informational', `SMS Legacy Update Synchronization done: ${why}; nothing rewritten`, cur?.id ?? null);
    say(`Message ${MSG_SYNC_DONE}: SMS Legacy Update Synchronization done; ${why}`);
    return { outcome: 'unchanged', ...(cur ? { catalogId: cur.id } : {}), message: why, rescans: 0 };
  }
}
