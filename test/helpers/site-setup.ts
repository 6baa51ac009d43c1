/**
 * The set-up many site tests repeat after `Site.open`: what `patchscan init` leaves in the store (the site's objects,
 * optionally the admin token's hash, initialized_at), optionally the main collection unlimited and the bundled catalog
 * synced. Only the steps asked for run, always in this order; the caller writes the configuration and opens the site,
 * since those differ from test to test.
 */
import { ensureObjects } from '../../adapters/site/objects.js';
import type { Site } from '../../adapters/site/site.js';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { runSync, type SyncResult } from '../../adapters/sync/sync.js';

export const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

export interface SiteSetUp {
  /** The test computer `ensureObjects` records (the pilot collection's member); tests name it differently. */
  readonly testComputer: string;
  /** The sync host `ensureObjects` records (the sync collection's member). */
  readonly syncHost: string;
  /** An admin token: its hash is stored as admin_token_hash. Left out, no admin token is set. */
  readonly admin?: string;
  /** Make the main collection unlimited (every machine targeted), before the sync. */
  readonly mainUnlimited?: boolean;
  /** Sync the bundled catalog into service, last. Its result is returned: checking it is the caller's business. */
  readonly sync?: boolean;
}

/** Sets the site up as `o` says; the sync's result when `o.sync`, else undefined. */
export async function setUpSite(site: Site, o: SiteSetUp): Promise<SyncResult | undefined> {
  const store = site.store;
  await ensureObjects(store, { testComputer: o.testComputer, syncHost: o.syncHost });
  if (o.admin !== undefined) await store.setSetting('admin_token_hash', sha256Hex(o.admin));
  await store.setSetting('initialized_at', new Date().toISOString());
  if (o.mainUnlimited) await store.setCollectionLimit((await store.objectId('collection', 'main'))!, null);
  return o.sync ? runSync(site, { source: BUNDLED }) : undefined;
}
