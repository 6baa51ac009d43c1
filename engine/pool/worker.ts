/**
 * The pool's worker thread: builds the catalog once over the shared memory it was given, then scans batches.
 */
import { workerData } from 'node:worker_threads';
import { Catalog } from '../catalog/catalog.js';
import { Scanner } from '../scanner/scanner.js';
import type { ScanTask, ScanTaskResult } from './protocol.js';
import { scanBatch } from './scan-batch.js';
import { fromShared, type SharedCatalog } from './shared-catalog.js';

const scanner = new Scanner(new Catalog(fromShared((workerData as { catalog: SharedCatalog }).catalog)));

export default function scanTask(task: ScanTask): ScanTaskResult {
  return scanBatch(scanner, task);
}
