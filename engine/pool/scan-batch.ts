/**
 * Scans one batch of raw inventories with a Scanner: the work a pool worker does, also usable in-process.
 */
import { PatchscanError } from '../errors.js';
import { decodeInventory } from '../inventory/validate.js';
import type { Scanner } from '../scan/scan.js';
import type { MachineResult, ScanTaskOptions, UpdateOutcome } from './protocol.js';

export function scanBatch(scanner: Scanner, items: readonly Uint8Array[], sources: readonly string[], options: ScanTaskOptions): MachineResult[] {
  const c = scanner.catalog;
  const out: MachineResult[] = [];
  for (let k = 0; k < items.length; k++) {
    const source = sources[k] ?? `item ${k}`;
    const t0 = performance.now();
    try {
      const inv = decodeInventory(items[k]!, source);
      const updates = scanner.withSession(inv, (s) => {
        const list: UpdateOutcome[] = [];
        for (let i = 0; i < c.size; i++) {
          if (!options.all && (!c.isReportable(i) || s.state(i) === 'NotApplicable')) continue;
          if (options.reasons) {
            const r = s.result(i);
            list.push({ index: i, state: r.state, superseded: r.superseded, reason: s.reason(r) });
          } else list.push({ index: i, state: s.state(i), superseded: s.isSuperseded(i) });
        }
        return list;
      });
      out.push({ ok: true, source, computer: inv.computer.name, updates, micros: Math.round((performance.now() - t0) * 1000) });
    } catch (e) {
      const err = PatchscanError.is(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
      out.push({ ok: false, source, error: err });
    }
  }
  return out;
}
