/**
 * Group commit: uploads that arrive within the same turn of the event loop are written in one transaction, so one
 * fsync serves them all; each upload's promise settles only after that commit (durability is unchanged). The scan
 * job is queued in the same transaction: no accepted upload lacks its scan.
 */
import type { SiteStore } from '../../store/port.js';

export interface PendingUpload {
  readonly clientId: number;
  readonly body: Uint8Array;
  readonly arch: string;
  readonly expedited: boolean;
}

export class GroupCommit {
  private batch: { item: PendingUpload; resolve: (id: number) => void; reject: (e: unknown) => void }[] = [];
  constructor(private readonly store: SiteStore) {}

  add(item: PendingUpload): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => void this.flush());
      this.batch.push({ item, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    let ids: number[];
    try {
      ids = await this.store.transaction(async (store) => {
        const out: number[] = [];
        for (const { item } of batch) {
          out.push(await store.addInventory(item.clientId, item.body, item.arch));
          await store.enqueueScan(item.clientId, item.expedited ? 'expedited' : 'normal', item.expedited ? 'expedited upload' : 'upload');
        }
        return out;
      });
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    batch.forEach((b, k) => b.resolve(ids[k]!));
  }
}
