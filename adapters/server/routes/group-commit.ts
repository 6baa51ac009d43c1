/**
 * Group commit: uploads that arrive within the same turn of the event loop are written in one transaction, so one
 * fsync serves them all; each upload's promise settles only after that commit (durability is unchanged). The scan
 * job is queued in the same transaction: no accepted upload lacks its scan. Retention (limits.inventoriesPerClient,
 * limits.storedBytesPerClient) prunes each client's older inventories in that same transaction.
 *
 * One upload's refusal never costs the others theirs: an inventory over the per-client byte cap is refused (413)
 * before the transaction, and should the shared transaction fail anyway, each upload is committed again on its own.
 */
import { PatchscanError } from '../../../engine/errors.js';
import { DEFAULT_CONFIG, type SiteConfig } from '../../site/site.js';
import type { InventoryRetention, SiteStore } from '../../store/port.js';
import { HttpError } from '../http.js';

export interface PendingUpload {
  readonly clientId: number;
  readonly body: Uint8Array;
  readonly arch: string;
  readonly expedited: boolean;
}

export type RetentionLimits = Pick<SiteConfig['limits'], 'inventoriesPerClient' | 'storedBytesPerClient'>;

type Waiting = { item: PendingUpload; resolve: (id: number) => void; reject: (e: unknown) => void };

export class GroupCommit {
  private batch: Waiting[] = [];
  private readonly retention: InventoryRetention;

  /** @param limits the site's `limits` (only the retention keys are read); the defaults when not given */
  constructor(private readonly store: SiteStore, limits: RetentionLimits = DEFAULT_CONFIG.limits) {
    this.retention = { keep: limits.inventoriesPerClient, maxBytes: limits.storedBytesPerClient };
  }

  add(item: PendingUpload): Promise<number> {
    if (item.body.length > this.retention.maxBytes) {
      return Promise.reject(new HttpError(413, 'TOO_LARGE',
        `the inventory takes ${item.body.length} bytes stored; one client may keep ${this.retention.maxBytes} (limits.storedBytesPerClient)`));
    }
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => void this.flush());
      this.batch.push({ item, resolve, reject });
    });
  }

  private commit(batch: readonly Waiting[]): Promise<number[]> {
    return this.store.transaction(async (store) => {
      const out: number[] = [];
      for (const { item } of batch) {
        out.push(await store.addInventory(item.clientId, item.body, item.arch, this.retention));
        await store.enqueueScan(item.clientId, item.expedited ? 'expedited' : 'normal', item.expedited ? 'expedited upload' : 'upload');
      }
      return out;
    });
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    try {
      const ids = await this.commit(batch);
      batch.forEach((b, k) => b.resolve(ids[k]!));
      return;
    } catch (e) {
      if (batch.length === 1 || storeDown(e)) {
        for (const b of batch) b.reject(refusal(e));
        return;
      }
    }
    // The shared transaction failed for one of them (a client revoked or removed meanwhile): each on its own.
    for (const b of batch) {
      try {
        b.resolve((await this.commit([b]))[0]!);
      } catch (e) {
        b.reject(refusal(e));
      }
    }
  }
}

const storeDown = (e: unknown): boolean => PatchscanError.is(e, 'STORE_UNAVAILABLE') || /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED)/.test(String((e as { code?: unknown }).code ?? ''));

/** What the store refused, as the answer the client gets; anything else as it was (the server maps it). */
function refusal(e: unknown): unknown {
  if (PatchscanError.is(e, 'NOT_FOUND') && e.details.client === 'revoked') {
    return new HttpError(401, 'UNAUTHENTICATED', 'the token was revoked (or its client removed) while the upload was sent; nothing was stored', { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  if (PatchscanError.is(e, 'BAD_ARGUMENT') && e.details.limit === 'limits.storedBytesPerClient') return new HttpError(413, 'TOO_LARGE', e.message);
  return e;
}
