/**
 * The pool's worker thread: builds the catalog once over the shared memory it was given, then scans batches.
 */
import { workerData } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { Catalog } from '../catalog/catalog.js';
import { Scanner } from '../scan/scan.js';
import type { ScanTask, ScanTaskResult } from './protocol.js';
import { scanBatch } from './scan-batch.js';
import { fromShared, type SharedCatalog } from './shared-catalog.js';

const { data, stringAt } = fromShared((workerData as { catalog: SharedCatalog }).catalog);
const scanner = new Scanner(new Catalog(data, stringAt));
const packr = new Packr({ useRecords: false });

export default function scanTask(task: ScanTask): ScanTaskResult {
  const items: Uint8Array[] = [];
  for (let k = 0; k + 1 < task.offsets.length; k++) items.push(task.bytes.subarray(task.offsets[k]!, task.offsets[k + 1]!));
  // pack() returns a view of a reused buffer: copy it before handing it to another thread.
  return { packed: Uint8Array.from(packr.pack(scanBatch(scanner, items, task.sources, task.options))) };
}
