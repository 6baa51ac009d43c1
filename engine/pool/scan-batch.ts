/**
 * Scans one batch of raw inventories: decode and validate each, fingerprint it, and either name the result set of
 * a machine with the same profile (from the shared profile table) or scan it. The work a pool worker does, also run
 * in-process when there are no worker threads.
 */
import { PatchscanError } from '../errors.js';
import { decodeInventory } from '../inventory/validate.js';
import { fingerprint, fingerprintMsgpack } from '../scan/result-cache.js';
import { scanOutcomes } from '../scan/outcomes.js';
import type { ResultSetData } from '../scan/result-set.js';
import type { Scanner } from '../scan/scan.js';
import { Claim, ProfileTable } from './profile-table.js';
import type { MachineError, ScanTask, ScanTaskResult } from './protocol.js';

const isMsgpackMap = (b: Uint8Array): boolean => b.length > 0 && ((b[0]! & 0xf0) === 0x80 || b[0] === 0xde || b[0] === 0xdf);

export function scanBatch(scanner: Scanner, task: ScanTask): ScanTaskResult {
  const { options } = task;
  const n = task.offsets.length - 1;
  const table = new ProfileTable(task.table);
  const recording = table.capacity > 0;
  const setIds = new Int32Array(n);
  const micros = new Uint32Array(n);
  const computers: string[] = new Array<string>(n).fill('');
  const errors: MachineError[] = [];
  const sets: ResultSetData[] = [];
  let shared = 0;
  for (let k = 0; k < n; k++) {
    const source = task.sources[k] ?? `item ${k}`;
    const t0 = performance.now();
    let claim: Claim = Claim.Shared;
    let id = 0;
    try {
      const bytes = task.bytes.subarray(task.offsets[k]!, task.offsets[k + 1]!);
      const inv = decodeInventory(bytes, source);
      computers[k] = inv.computer.name;
      if (recording) {
        // msgpack (the fleet format) is digested from its bytes; JSON from the decoded object.
        const fp = isMsgpackMap(bytes) ? fingerprintMsgpack(bytes, task.details) : fingerprint(inv, task.details);
        claim = table.claim(fp[0]!, fp[1]!, fp[2]!, fp[3]!);
      } else claim = table.claimAlone();
      id = table.id;
      if (claim === Claim.Shared) {
        shared++;
      } else {
        sets.push({ id, shared: claim === Claim.First, ...scanOutcomes(scanner, inv, options) });
      }
      setIds[k] = id;
    } catch (e) {
      const error = PatchscanError.is(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
      errors.push({ k, ...error });
      // A profile claimed but not scanned: machines that name it get this error too, instead of waiting for it.
      if (id !== 0 && claim !== Claim.Shared) sets.push({ id, shared: claim === Claim.First, outcomes: new Uint32Array(0), error });
    }
    micros[k] = Math.round((performance.now() - t0) * 1000);
  }
  return { setIds, computers, micros, errors, sets, shared };
}
