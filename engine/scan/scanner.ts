/**
 * Update state resolution for one machine (reference §4; decisions in docs/semantics.md):
 *
 * 1. Categories and detectoids are "installed" when their prerequisites are and their IsInstalled rule is True
 *    (evaluated on demand in prerequisite order, memoized: the fix-point of §4.3).
 * 2. A leaf update: prerequisites False → NotApplicable; else the table of §4.2 in Kleene logic:
 *    Installed if P ∧ IsInstalled, Required if P ∧ ¬IsInstalled ∧ ¬IsSuperseded ∧ IsInstallable,
 *    NotApplicable if both are False, Unknown otherwise. Absent rules: IsInstalled False, IsInstallable True,
 *    IsSuperseded False.
 * 3. A bundle: from its children — any Required → Required; else any Unknown → Unknown; else any Installed →
 *    Installed; else NotApplicable (its own prerequisites first).
 * 4. Supersedence: an update superseded by one that is Installed or Required carries `superseded`.
 */
import type { Catalog } from '../catalog/catalog.js';
import { EvalContext } from '../eval/context.js';
import { decidingLeaf, RuleProgram, type ExplainNode } from '../eval/program.js';
import { F, T, U, and2, not, or2, triName, type Tri } from '../eval/tri.js';
import { Machine } from '../inventory/machine.js';
import type { Inventory } from '../inventory/types.js';
import type { RuleSlot } from '../model.js';

export type UpdateState = 'Installed' | 'Required' | 'NotApplicable' | 'Unknown';

const BUSY = 255;
const S_NONE = 0, S_BUSY = 1, S_INSTALLED = 2, S_REQUIRED = 3, S_NA = 4, S_UNKNOWN = 5;
const STATE_NAMES: Record<number, UpdateState> = { [S_INSTALLED]: 'Installed', [S_REQUIRED]: 'Required', [S_NA]: 'NotApplicable', [S_UNKNOWN]: 'Unknown' };

/** Why an update got its state: enough to print a reason and to explain. */
export type Because =
  | { readonly kind: 'prerequisite'; readonly group: number; readonly value: Tri; readonly members: readonly { updateId: string; index: number }[] }
  | { readonly kind: 'rules'; readonly slot: RuleSlot | 'defaults'; readonly value: Tri }
  | { readonly kind: 'children'; readonly child: number; readonly childUpdateId: string; readonly state: UpdateState }
  | { readonly kind: 'noChildren' }
  | { readonly kind: 'cycle' };

export interface UpdateResult {
  readonly index: number;
  readonly state: UpdateState;
  readonly superseded: boolean;
  /** Index of the update that supersedes this one (Installed or Required), when superseded. */
  readonly supersededBy?: number;
  readonly because: Because;
}

const SLOTS: readonly RuleSlot[] = ['IsInstalled', 'IsInstallable', 'IsSuperseded'];

export class ScanSession {
  readonly ctx: EvalContext;
  private readonly state: Uint8Array;
  private readonly installedMemo: Uint8Array; // 0 = not computed, else tri + 1
  private readonly because: (Because | undefined)[];
  private readonly slotMemo: Int8Array; // 3 per update: -1 not computed, else tri

  constructor(readonly catalog: Catalog, readonly program: RuleProgram, inventory: Inventory) {
    this.ctx = new EvalContext(catalog, new Machine(inventory));
    const n = catalog.size;
    this.state = new Uint8Array(n);
    this.installedMemo = new Uint8Array(n);
    this.because = new Array<Because | undefined>(n);
    this.slotMemo = new Int8Array(n * 3).fill(-1);
  }

  /** Value of a rule slot, with the defaults of reference §4.1 for absent rules. */
  slot(i: number, s: number): Tri {
    const m = this.slotMemo[i * 3 + s]!;
    if (m >= 0) return m as Tri;
    const root = this.catalog.data.updates.rules[i * 3 + s]!;
    const v: Tri = root < 0 ? (s === 1 ? T : F) : this.program.eval(root, this.ctx);
    this.slotMemo[i * 3 + s] = v;
    return v;
  }

  /** Whether update `i` counts as installed for prerequisite purposes. */
  installed(i: number): Tri {
    const memo = this.installedMemo[i]!;
    if (memo === BUSY) return U; // a prerequisite cycle
    if (memo !== 0) return (memo - 1) as Tri;
    const type = this.catalog.updateType(i);
    let v: Tri;
    if (type === 'Category' || type === 'Detectoid') {
      this.installedMemo[i] = BUSY;
      const p = this.prerequisites(i).value;
      v = p === F ? F : and2(p, this.slot(i, 0));
    } else {
      const s = this.stateCode(i);
      v = s === S_INSTALLED ? T : s === S_UNKNOWN ? U : F;
    }
    this.installedMemo[i] = v + 1;
    return v;
  }

  /** Prerequisites: every group satisfied; a group is one update, or at least one of several. */
  prerequisites(i: number): { value: Tri; group: number } {
    const p = this.catalog.data.prerequisites;
    let value: Tri = T;
    let deciding = -1;
    for (let g = p.groupOffsets[i]!; g < p.groupOffsets[i + 1]!; g++) {
      let gv: Tri = F;
      for (let m = p.memberOffsets[g]!; m < p.memberOffsets[g + 1]!; m++) {
        const t = p.target[m]!;
        // A prerequisite the catalog does not hold can never be installed (WUA would not offer the update).
        gv = or2(gv, t < 0 ? F : this.installed(t));
        if (gv === T) break;
      }
      if (gv === F) return { value: F, group: g };
      if (gv === U && value === T) {
        value = U;
        deciding = g;
      }
    }
    return { value, group: deciding };
  }

  stateCode(i: number): number {
    const s = this.state[i]!;
    if (s === S_BUSY) return S_UNKNOWN; // cycle: the caller sees Unknown
    if (s !== S_NONE) return s;
    this.state[i] = S_BUSY;
    const [code, because] = this.decide(i);
    this.state[i] = code;
    this.because[i] = because;
    return code;
  }

  private prereqBecause(i: number, group: number, value: Tri): Because {
    const p = this.catalog.data.prerequisites;
    const members = [];
    for (let m = p.memberOffsets[group]!; m < p.memberOffsets[group + 1]!; m++) members.push({ updateId: this.catalog.str(p.guid[m]!), index: p.target[m]! });
    return { kind: 'prerequisite', group, value, members };
  }

  private decide(i: number): [number, Because] {
    const c = this.catalog;
    const type = c.updateType(i);
    const pre = this.prerequisites(i);
    if (pre.value === F) return [S_NA, this.prereqBecause(i, pre.group, F)];

    if (type === 'Category' || type === 'Detectoid') {
      const v = and2(pre.value, this.slot(i, 0));
      const code = v === T ? S_INSTALLED : v === F ? S_NA : S_UNKNOWN;
      return [code, pre.value === U && v === U ? this.prereqBecause(i, pre.group, U) : { kind: 'rules', slot: 'IsInstalled', value: v }];
    }

    const b = c.data.bundles;
    if (b.groupOffsets[i + 1]! > b.groupOffsets[i]!) {
      let req = -1, unk = -1, inst = -1;
      for (let g = b.groupOffsets[i]!; g < b.groupOffsets[i + 1]!; g++) {
        for (let m = b.memberOffsets[g]!; m < b.memberOffsets[g + 1]!; m++) {
          const t = b.target[m]!;
          const s = t < 0 ? S_UNKNOWN : this.stateCode(t);
          if (s === S_REQUIRED && req < 0) req = m;
          else if (s === S_UNKNOWN && unk < 0) unk = m;
          else if (s === S_INSTALLED && inst < 0) inst = m;
        }
      }
      const childBecause = (m: number, state: UpdateState): Because => ({ kind: 'children', child: b.target[m]!, childUpdateId: c.str(b.guid[m]!), state });
      let code: number;
      let because: Because;
      if (req >= 0) [code, because] = [S_REQUIRED, childBecause(req, 'Required')];
      else if (unk >= 0) [code, because] = [S_UNKNOWN, childBecause(unk, 'Unknown')];
      else if (inst >= 0) [code, because] = [S_INSTALLED, childBecause(inst, 'Installed')];
      else [code, because] = [S_NA, { kind: 'noChildren' }];
      if (pre.value === U && code !== S_NA) return [S_UNKNOWN, this.prereqBecause(i, pre.group, U)];
      return [code, because];
    }

    const isInstalled = this.slot(i, 0);
    const installed = and2(pre.value, isInstalled);
    if (installed === T) return [S_INSTALLED, { kind: 'rules', slot: 'IsInstalled', value: T }];
    const isSuperseded = this.slot(i, 2);
    const isInstallable = this.slot(i, 1);
    const required = and2(and2(pre.value, not(isInstalled)), and2(not(isSuperseded), isInstallable));
    if (required === T) return [S_REQUIRED, { kind: 'rules', slot: 'IsInstallable', value: T }];
    if (installed === F && required === F) {
      if (isSuperseded === T) return [S_NA, { kind: 'rules', slot: 'IsSuperseded', value: T }];
      if (isInstallable === F) return [S_NA, { kind: 'rules', slot: 'IsInstallable', value: F }];
      return [S_NA, { kind: 'rules', slot: 'defaults', value: F }];
    }
    // Unknown: name the first part that left it open.
    if (pre.value === U) return [S_UNKNOWN, this.prereqBecause(i, pre.group, U)];
    const open = ([[0, isInstalled], [2, isSuperseded], [1, isInstallable]] as const).find(([, v]) => v === U);
    return [S_UNKNOWN, { kind: 'rules', slot: SLOTS[open?.[0] ?? 0]!, value: U }];
  }

  result(i: number): UpdateResult {
    const code = this.stateCode(i);
    let supersededBy: number | undefined;
    const sb = this.catalog.data.supersededBy;
    for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) {
      const t = sb.target[k]!;
      const s = this.stateCode(t);
      if (s === S_INSTALLED || s === S_REQUIRED) {
        supersededBy = t;
        break;
      }
    }
    const because = this.because[i] ?? { kind: 'cycle' as const };
    return {
      index: i,
      state: STATE_NAMES[code]!,
      superseded: supersededBy !== undefined || (because.kind === 'rules' && because.slot === 'IsSuperseded' && because.value === T),
      ...(supersededBy !== undefined ? { supersededBy } : {}),
      because,
    };
  }

  /** Explanation of one rule slot of update `i`. */
  explainSlot(i: number, slot: RuleSlot): ExplainNode | undefined {
    const root = this.catalog.ruleRoot(i, slot);
    return root < 0 ? undefined : this.program.explain(root, this.ctx);
  }

  /** One line saying why update `i` has its state. */
  reason(r: UpdateResult): string {
    const c = this.catalog;
    const name = (idx: number, id: string): string => (idx >= 0 ? `${c.kb(idx) ? `KB${c.kb(idx)} ` : ''}"${c.title(idx) || id}"` : `${id} (not in the catalog)`);
    let text: string;
    const b = r.because;
    switch (b.kind) {
      case 'prerequisite': {
        const what = b.members.length === 1 ? `prerequisite ${name(b.members[0]!.index, b.members[0]!.updateId)}` : `none of the prerequisites ${b.members.map((m) => name(m.index, m.updateId)).join(', ')}`;
        text = b.value === F ? `${what} is not installed` : `${what} ${b.members.length === 1 ? 'is' : 'are'} of unknown state`;
        // Say why the first open prerequisite is open (its own rules or prerequisites).
        const open = b.value === U ? b.members.find((m) => m.index >= 0 && this.installed(m.index) === U) : undefined;
        if (open) text += `: ${this.reason(this.result(open.index))}`;
        break;
      }
      case 'children':
        text = `bundled update ${name(b.child, b.childUpdateId)} is ${b.state}`;
        if (b.child >= 0 && b.state !== 'Installed') text += `: ${this.reason(this.result(b.child))}`;
        break;
      case 'noChildren':
        text = 'no bundled update applies to this machine';
        break;
      case 'cycle':
        text = 'prerequisites form a cycle';
        break;
      case 'rules': {
        if (b.slot === 'defaults') {
          text = 'not installed and not installable';
          break;
        }
        const e = this.explainSlot(r.index, b.slot);
        if (!e) {
          text = `${b.slot} is absent (defaults apply)`;
          break;
        }
        const leaf = decidingLeaf(e);
        const reads = leaf.reads.map((x) => `${x.fact}: ${x.value}`).join('; ');
        text = `${b.slot} is ${triName(b.value)}: ${leaf.rule}${reads ? ` (${reads})` : ''}`;
        if (r.state === 'Required') {
          const ie = this.explainSlot(r.index, 'IsInstalled');
          if (ie) {
            const l2 = decidingLeaf(ie);
            text = `IsInstalled is False: ${l2.rule}${l2.reads.length ? ` (${l2.reads.map((x) => `${x.fact}: ${x.value}`).join('; ')})` : ''}; ${text}`;
          }
        }
      }
    }
    if (r.supersededBy !== undefined) text += `; superseded by ${name(r.supersededBy, c.updateId(r.supersededBy))} (${STATE_NAMES[this.stateCode(r.supersededBy)]})`;
    return text;
  }
}

/** Whether an update is a row of the default report: software that is not a bundle-only child. */
export function isReportable(c: Catalog, i: number): boolean {
  return c.updateType(i) === 'Software' && c.deploymentAction(i) !== 'Bundle';
}
