/**
 * Scans one batch of raw inventories: digest each machine's profile, and either name the result set of a machine
 * with the same profile (from the shared profile table) or decode, validate and scan it. A msgpack or JSON machine
 * with a known profile is answered from its bytes without being decoded. The work a pool worker does, also run in-process
 * when there are no worker threads.
 */
import { PatchscanError, type ErrorCode } from '../errors.js';
import { decodeInventory, DEFAULT_INVENTORY_LIMITS, isMsgpackMap } from '../inventory/validate.js';
import { JsonProfile } from '../fleet/json-profile.js';
import { MsgpackProfile } from '../fleet/msgpack-profile.js';
import { fingerprint } from '../fleet/fingerprint.js';
import { scanOutcomes } from '../fleet/scan-outcomes.js';
import { ReasonEncoder } from '../fleet/reason-bytes.js';
import type { Scanner } from '../scanner/scanner.js';
import { Claim, ProfileTable } from '../fleet/profile-table.js';
import type { MachineError, ScanTask, ScanTaskResult, TaskSet } from './protocol.js';

const isJsonObject = (b: Uint8Array): boolean => b.length > 0 && b[0] === 0x7b;

const msgpackProfile = new MsgpackProfile();
const jsonProfile = new JsonProfile();

const NO_FP = new Int32Array(4);

/** Reasons leave the worker as bytes (reason-bytes.ts says why). */
const reasonEncoder = new ReasonEncoder();

export function scanBatch(scanner: Scanner, task: ScanTask): ScanTaskResult {
  const { options } = task;
  const n = task.offsets.length - 1;
  const table = new ProfileTable(task.table);
  const recording = table.capacity > 0;
  const setIds = new Int32Array(n);
  const micros = new Uint32Array(n);
  const computers: string[] = new Array<string>(n).fill('');
  const errors: MachineError[] = [];
  const sets: TaskSet[] = [];
  const before = scanner.ruleValueStats();
  let shared = 0;
  for (let k = 0; k < n; k++) {
    const source = task.sources[k] ?? `item ${k}`;
    const t0 = performance.now();
    let claim: Claim = Claim.Shared;
    let id = 0;
    try {
      const bytes = task.bytes.subarray(task.offsets[k], task.offsets[k + 1]);
      // msgpack (the fleet format) and JSON are digested from their bytes. A machine whose profile is already known,
      // and whose left-out fields pass the quick check, is answered without decoding (msgpack-profile.ts and
      // json-profile.ts say why that is safe).
      const profile = isJsonObject(bytes) ? jsonProfile : isMsgpackMap(bytes) ? msgpackProfile : undefined;
      const digested =
        recording && bytes.length <= DEFAULT_INVENTORY_LIMITS.maxBytes && profile !== undefined && profile.read(bytes, task.details);
      const fp = profile?.fp ?? NO_FP;
      if (digested && profile.leftOutOk) {
        const known = table.find(fp[0]!, fp[1]!, fp[2]!, fp[3]!);
        if (known !== 0) {
          computers[k] = profile.computerName(bytes);
          setIds[k] = known;
          shared++;
          micros[k] = Math.round((performance.now() - t0) * 1000);
          continue;
        }
      }
      const inv = decodeInventory(bytes, source);
      computers[k] = inv.computer.name;
      if (recording) {
        if (digested) claim = table.claim(fp[0]!, fp[1]!, fp[2]!, fp[3]!);
        else {
          const f = fingerprint(inv, task.details);
          claim = table.claim(f[0]!, f[1]!, f[2]!, f[3]!);
        }
      } else claim = table.claimAlone();
      id = table.id;
      if (claim === Claim.Shared) {
        shared++;
      } else {
        sets.push({ id, shared: claim === Claim.First, ...scanOutcomes(scanner, inv, options, reasonEncoder) });
      }
      setIds[k] = id;
    } catch (e) {
      const error: { code: ErrorCode; message: string } = PatchscanError.is(e)
        ? { code: e.code, message: e.message }
        : { code: 'INTERNAL', message: (e as Error).message };
      errors.push({ k, ...error });
      // A profile claimed but not scanned: machines that name it get this error too, instead of waiting for it.
      if (id !== 0 && claim !== Claim.Shared) sets.push({ id, shared: claim === Claim.First, outcomes: new Uint32Array(0), error });
    }
    micros[k] = Math.round((performance.now() - t0) * 1000);
  }
  const after = scanner.ruleValueStats();
  const ruleValues = { shared: after.shared - before.shared, evaluated: after.evaluated - before.evaluated };
  return { setIds, computers, micros, errors, sets, shared, ruleValues };
}
