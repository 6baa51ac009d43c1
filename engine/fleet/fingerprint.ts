/**
 * A machine's profile fingerprint, for sharing work across machines: thousands of machines share an OS build, a patch level and a product set, and so
 * get the same answers. A machine's results depend only on the inventory content the catalog's rules can read, so
 * we key whole-machine results by a digest of that content — identity (name, id), collection time, and file/processor
 * details no rule of this catalog reads are left out — in a bounded table shared by all threads (profile-table.ts).
 *
 * Correctness does not depend on hits: a different key only costs a scan; equal keys mean equal rule inputs.
 */
import { hash } from 'node:crypto';
import type { RelevantDetails } from '../catalog/relevant-details.js';
import type { Inventory, InventoryFile } from '../inventory/types.js';
import { detailFieldsKept, FILE_DETAIL_KINDS } from '../rules/reads.js';

/**
 * Digest of everything in the inventory the catalog's rules can read, as four 32-bit words: 128 bits of SHA-256.
 * By chance, a collision among even a billion profiles is far less likely than a hardware fault; on purpose, a
 * client would need a SHA-256 collision (with SHA-1, chosen-prefix collisions are affordable, and a hostile client
 * sharing a scan with others could have named their results). SHA-256 costs the same here (SHA extensions).
 */
export function fingerprint(inv: Inventory, d: RelevantDetails): Int32Array {
  // In DETAIL_FIELDS order (size, created, modified, language): the digest's text is what it always was.
  const fileFields = detailFieldsKept(d, FILE_DETAIL_KINDS) as Set<keyof InventoryFile>;
  const view = {
    ...inv,
    computer: undefined,
    collectedAt: undefined,
    files: inv.files?.map((f) => {
      const kept: Record<string, unknown> = { path: f.path, exists: f.exists, version: f.version };
      for (const k of fileFields) kept[k] = f[k];
      return kept;
    }),
    processor: inv.processor && (d.processorDetail ? inv.processor : { architecture: inv.processor.architecture }),
  };
  const digest = hash('sha256', JSON.stringify(view), 'buffer') as unknown as Buffer;
  return Int32Array.of(digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12));
}
