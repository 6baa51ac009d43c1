/**
 * Sharing work across machines: thousands of machines share an OS build, a patch level and a product set, and so
 * get the same answers. A machine's results depend only on the inventory content the catalog's rules can read, so
 * we key whole-machine results by a digest of that content — identity (name, id), collection time, and file/processor
 * details no rule of this catalog reads are left out — in a bounded LRU cache.
 *
 * Correctness does not depend on hits: a different key only costs a scan; equal keys mean equal rule inputs.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Catalog } from '../catalog/catalog.js';
import { RULE_OP_BASE } from '../catalog/data.js';
import type { Inventory } from '../inventory/types.js';
import type { UpdateOutcome } from '../pool/protocol.js';

/** Cached per machine fingerprint: the outcomes, shared by every machine with the same rule inputs. */
export type CachedOutcomes = { readonly updates: readonly UpdateOutcome[] };

/** Which optional inventory details any rule of the catalog can read. */
export interface RelevantDetails {
  readonly fileSize: boolean;
  readonly fileDates: boolean;
  readonly fileLanguage: boolean;
  readonly processorDetail: boolean;
}

export function relevantDetails(c: Catalog): RelevantDetails {
  const d = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };
  for (let n = 0; n < c.data.nodes.count; n++) {
    const op = c.data.nodes.op[n]!;
    if (op < RULE_OP_BASE) continue;
    const type = c.data.ruleTypes[op - RULE_OP_BASE] ?? '';
    const a = c.nodeAttrs(n);
    if (type.startsWith('FileSize') || (type.startsWith('FileExists') && a.Size !== undefined)) d.fileSize = true;
    if (type.startsWith('FileCreated') || type.startsWith('FileModified') || (type.startsWith('FileExists') && (a.Created !== undefined || a.Modified !== undefined))) d.fileDates = true;
    if (type.startsWith('FileExists') && a.Language !== undefined) d.fileLanguage = true;
    if ((type === 'Processor' && (a.Level !== undefined || a.Revision !== undefined)) || type === 'NumberOfProcessors') d.processorDetail = true;
  }
  return d;
}

/** Digest of everything in the inventory the catalog's rules can read. */
export function fingerprint(inv: Inventory, d: RelevantDetails): string {
  const view = {
    ...inv,
    computer: undefined,
    collectedAt: undefined,
    files: inv.files?.map((f) => ({
      path: f.path,
      exists: f.exists,
      version: f.version,
      ...(d.fileSize ? { size: f.size } : {}),
      ...(d.fileDates ? { created: f.created, modified: f.modified } : {}),
      ...(d.fileLanguage ? { language: f.language } : {}),
    })),
    processor: inv.processor && (d.processorDetail ? inv.processor : { architecture: inv.processor.architecture }),
  };
  return createHash('sha1').update(JSON.stringify(view)).digest('base64');
}

export class ResultCache<V extends object> {
  private readonly lru: LRUCache<string, V>;
  hits = 0;
  misses = 0;
  constructor(readonly details: RelevantDetails, max = 10_000) {
    this.lru = new LRUCache<string, V>({ max });
  }
  get(key: string): V | undefined {
    const v = this.lru.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }
  /** A miss that turned out to be answered by a scan already under way counts as a hit. */
  countHit(): void {
    this.misses--;
    this.hits++;
  }
  set(key: string, v: V): void {
    this.lru.set(key, v);
  }
}
