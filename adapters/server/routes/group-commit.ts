/**
 * Group commit: uploads that arrive within the same turn of the event loop are written in one transaction, so one
 * fsync serves them all; each upload's promise settles only after that commit (durability is unchanged). The scan
 * job is queued in the same transaction: no accepted upload lacks its scan. The group is stored with a few
 * multi-row statements (SiteStore.addUploads), not a few per upload: on PostgreSQL every statement is a round trip.
 * Retention (limits.inventoriesPerClient, limits.storedBytesPerClient) prunes each client's older inventories in that
 * same transaction.
 *
 * One upload's refusal never costs the others theirs: an inventory over the per-client byte cap is refused (413)
 * before the transaction, a client revoked meanwhile is refused (401) while the rest commit, and should the shared
 * transaction fail anyway, each upload is committed again on its own.
 */
import { PatchscanError } from '../../../engine/errors.js';
import { DEFAULT_CONFIG, type SiteConfig } from '../../site/site.js';
import type { InventoryRetention, SiteStore } from '../../store/port.js';
import { HttpError } from '../http.js';

export interface PendingUpload {
  readonly clientId: number;
  readonly body: Uint8Array;
  readonly arch: string;
  /** The operating system as people name it (adapters/site/os-name.ts); null or absent: not known. */
  readonly os?: string | null;
  readonly expedited: boolean;
}

export type RetentionLimits = Pick<SiteConfig['limits'], 'inventoriesPerClient' | 'storedBytesPerClient'>;

/** Groups committing at once: one, so the next group grows while it commits (2 measured slower on PostgreSQL). */
const MAX_IN_FLIGHT = 1;
/** Uploads per group at most: bounds a statement's parameters (5 per upload; SQLite allows 32,766). */
const MAX_GROUP = 500;

type Waiting = { item: PendingUpload; resolve: (id: number) => void; reject: (e: unknown) => void };

export class GroupCommit {
  private batch: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly retention: InventoryRetention;

  /** @param limits the site's `limits` (only the retention keys are read); the defaults when not given */
  constructor(
    private readonly store: SiteStore,
    limits: RetentionLimits = DEFAULT_CONFIG.limits,
  ) {
    this.retention = { keep: limits.inventoriesPerClient, maxBytes: limits.storedBytesPerClient };
  }

  add(item: PendingUpload): Promise<number> {
    if (item.body.length > this.retention.maxBytes) {
      return Promise.reject(
        new HttpError(
          413,
          'TOO_LARGE',
          `the inventory takes ${item.body.length} bytes stored; one client may keep ` +
            `${this.retention.maxBytes} (limits.storedBytesPerClient)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.batch.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * A group goes at the end of the event-loop turn it arrived in, unless MAX_IN_FLIGHT groups are still committing:
   * then it waits and grows until one of them ends (classic group commit: the slower the commit, the larger the next
   * group, so the statements per upload fall as the load rises).
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.batch.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Each upload's inventory id, or a refusal for an upload whose client was revoked or removed meanwhile. */
  private async commit(batch: readonly Waiting[]): Promise<(number | HttpError)[]> {
    const ids = await this.store.addUploads(
      batch.map(({ item }) => ({
        clientId: item.clientId,
        body: item.body,
        architecture: item.arch,
        os: item.os ?? null,
        priority: item.expedited ? 'expedited' : 'normal',
        reason: item.expedited ? 'expedited upload' : 'upload',
      })),
      this.retention,
    );
    return ids.map((id) => id ?? revoked());
  }

  private async flush(): Promise<void> {
    const batch = this.batch.splice(0, MAX_GROUP);
    if (batch.length === 0) return;
    this.inFlight++;
    try {
      await this.flushGroup(batch);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async flushGroup(batch: readonly Waiting[]): Promise<void> {
    try {
      const ids = await this.commit(batch);
      batch.forEach((b, k) => settle(b, ids[k]!));
      return;
    } catch (e) {
      if (batch.length === 1 || storeDown(e)) {
        for (const b of batch) b.reject(refusal(e));
        return;
      }
    }
    // The shared transaction failed (a deadlock with another server's group on PostgreSQL, say): each on its own.
    for (const b of batch) {
      try {
        settle(b, (await this.commit([b]))[0]!);
      } catch (e) {
        b.reject(refusal(e));
      }
    }
  }
}

const settle = (b: Waiting, r: number | HttpError): void => (typeof r === 'number' ? b.resolve(r) : b.reject(r));

const revoked = (): HttpError =>
  new HttpError(401, 'UNAUTHENTICATED', 'the token was revoked (or its client removed) while the upload was sent; nothing was stored', {
    'www-authenticate': 'Bearer error="invalid_token"',
  });

const storeDown = (e: unknown): boolean =>
  PatchscanError.is(e, 'STORE_UNAVAILABLE') ||
  /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED)/.test(String((e as { code?: unknown }).code ?? ''));

/** What the store refused, as the answer the client gets; anything else as it was (the server maps it). */
function refusal(e: unknown): unknown {
  if (PatchscanError.is(e, 'NOT_FOUND') && e.details.client === 'revoked') return revoked();
  if (PatchscanError.is(e, 'BAD_ARGUMENT') && e.details.limit === 'limits.storedBytesPerClient')
    return new HttpError(413, 'TOO_LARGE', e.message);
  return e;
}
