/**
 * Scanning one inventory against a compiled catalog: rows for reports, and explanations.
 */
import type { Catalog } from '../catalog/catalog.js';
import { PatchscanError } from '../errors.js';
import { formatExplain, RuleProgram, type ExplainNode } from '../eval/program.js';
import type { Inventory } from '../inventory/types.js';
import type { RuleSlot } from '../model.js';
import { MachineScan, MachineScanBuffers, type UpdateResult, type UpdateState } from './machine-scan.js';
import { SectionMemo, type SectionMemoLimits } from './section-memo.js';

/** One update's outcome on one machine, by catalog index. */
export interface UpdateOutcome {
  readonly index: number;
  readonly state: UpdateState;
  readonly superseded: boolean;
  /** Not superseded, but a superseding update is Unknown on the machine (supersedence.ts). */
  readonly possiblySuperseded: boolean;
  readonly reason?: string;
}

export interface ScanRow {
  readonly computer: string;
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly kb: string;
  readonly title: string;
  readonly classification: string;
  readonly severity: string;
  readonly type: string;
  readonly isBundle: boolean;
  /** package.xml's CreationDate of the revision (Catalog.releaseDate), '' when absent. */
  readonly releaseDate: string;
  /** CVEs the update names (extended fragment CveID). */
  readonly cves: readonly string[];
  /** Its More-info link (Catalog.moreInfoUrl), '' when absent. */
  readonly moreInfoUrl: string;
  readonly state: UpdateState;
  readonly superseded: boolean;
  /** Not superseded, but an update that supersedes it is Unknown on the machine (never true with `superseded`). */
  readonly possiblySuperseded: boolean;
  readonly reason: string;
}

/** A report row for one update's outcome on one machine (`reason` is '' when reasons were not computed). */
export function scanRow(c: Catalog, computer: string, o: UpdateOutcome, language?: string): ScanRow {
  const i = o.index;
  return {
    computer,
    updateId: c.updateId(i),
    revisionNumber: c.revisionNumber(i),
    kb: c.kb(i),
    title: c.title(i, language),
    classification: c.classification(i),
    severity: c.severity(i),
    type: c.updateType(i),
    isBundle: c.isBundle(i),
    releaseDate: c.releaseDate(i),
    cves: c.cves(i),
    moreInfoUrl: c.moreInfoUrl(i, language),
    state: o.state,
    superseded: o.superseded,
    possiblySuperseded: o.possiblySuperseded,
    reason: o.reason ?? '',
  };
}

export interface ScanOptions {
  /** Also rows for NotApplicable updates, bundle children, detectoids and categories. */
  readonly all?: boolean;
  readonly language?: string;
}

export interface ScannerOptions {
  /**
   * Share rule results between the machines this scanner's fleet path scans, by the inventory sections the rules
   * read (section-memo.ts; default true). Only `withMachineScan` uses it; results are the same either way.
   */
  readonly shareRuleResults?: boolean;
  /** Memory bounds of that sharing. */
  readonly shareRuleResultsLimits?: SectionMemoLimits;
  /**
   * Decide the fleet path's outcomes over arrays laid out for it (fleet/flat-decisions.ts; default true): the same
   * outcomes, fewer cache misses. False keeps MachineScan's on-demand path, for differential tests and benchmarks.
   */
  readonly flatDecisions?: boolean;
}

/** A scanner over one catalog: rule trees compiled once, shared by every inventory scanned. */
export class Scanner {
  /** @internal The compiled rules (the engine's own modules read them). */
  readonly program: RuleProgram;
  private spare: MachineScanBuffers | undefined;
  private memo: SectionMemo | undefined;

  constructor(
    readonly catalog: Catalog,
    private readonly options: ScannerOptions = {},
  ) {
    this.program = new RuleProgram(catalog);
  }

  /** @internal A scan of one machine, on fresh working memory (safe to keep): `scan`, `states` and `explain` use it. */
  machineScan(inventory: Inventory): MachineScan {
    return new MachineScan(this.catalog, this.program, inventory);
  }

  /**
   * @internal Runs `fn` with a machine scan on this scanner's reusable working memory — the fleet path: no per-machine
   * allocation of catalog-sized arrays. The machine scan must not be used after `fn` returns.
   */
  withMachineScan<T>(inventory: Inventory, fn: (s: MachineScan) => T): T {
    const buffers = this.spare ?? MachineScanBuffers.for(this.catalog);
    this.spare = undefined;
    try {
      // Built on the first fleet scan (it indexes every rule root): one-off scans and explanations never pay for it.
      const memo =
        this.options.shareRuleResults === false
          ? undefined
          : (this.memo ??= new SectionMemo(this.catalog, this.options.shareRuleResultsLimits));
      const scan = new MachineScan(this.catalog, this.program, inventory, buffers, memo?.forMachine(inventory));
      try {
        return fn(scan);
      } finally {
        scan.flushCounts();
      }
    } finally {
      buffers.reset();
      this.spare = buffers;
    }
  }

  /** @internal Whether the fleet path decides over fleet/flat-decisions.ts's layout (ScannerOptions.flatDecisions). */
  get flatDecisions(): boolean {
    return this.options.flatDecisions !== false;
  }

  /** Rule-slot values of fleet scans taken from earlier machines with the same sections, and evaluated. */
  ruleValueStats(): { shared: number; evaluated: number } {
    return { shared: this.memo?.shared ?? 0, evaluated: this.memo?.evaluated ?? 0 };
  }

  /** States of every update in the catalog (no reasons: the fast path). */
  states(inventory: Inventory): UpdateResult[] {
    const s = this.machineScan(inventory);
    return Array.from({ length: this.catalog.size }, (_, i) => s.result(i));
  }

  scan(inventory: Inventory, options: ScanOptions = {}): ScanRow[] {
    const c = this.catalog;
    const s = this.machineScan(inventory);
    const rows: ScanRow[] = [];
    for (let i = 0; i < c.size; i++) {
      if (!options.all && (!c.isReportable(i) || s.state(i) === 'NotApplicable')) continue;
      const r = s.result(i);
      rows.push(
        scanRow(
          c,
          inventory.computer.name,
          { index: i, state: r.state, superseded: r.superseded, possiblySuperseded: r.possiblySuperseded, reason: s.reason(r) },
          options.language,
        ),
      );
    }
    return rows;
  }

  /** The decision for one update as a tree: state, reason, each rule slot with every node's value and reads. */
  explain(inventory: Inventory, index: number): Explanation {
    // An index from findByKb(…)[0] of a KB the catalog lacks is undefined: an error, not an explanation of nothing.
    if (!Number.isInteger(index) || index < 0 || index >= this.catalog.size)
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `no update has index ${String(index)} in this catalog (0 to ${this.catalog.size - 1}): find one with findByUpdateId, findByKb or find`,
      );
    const s = this.machineScan(inventory);
    const r = s.result(index);
    const c = this.catalog;
    const slots: Partial<Record<RuleSlot, ExplainNode>> = {};
    for (const slot of ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const) {
      const e = s.explainSlot(index, slot);
      if (e) slots[slot] = e;
    }
    const prerequisites = c.prerequisites(index).map((g) => ({
      kind: g.kind,
      members: g.members.map((m) => ({
        updateId: m.updateId,
        title: m.index >= 0 ? c.title(m.index) : '',
        inCatalog: m.index >= 0,
        installed: m.index >= 0 ? ['False', 'True', 'Unknown'][s.installed(m.index)]! : 'False',
      })),
    }));
    const children = c
      .bundledUpdates(index)
      .flatMap((g) => g.members)
      .map((m) => ({
        updateId: m.updateId,
        title: m.index >= 0 ? c.title(m.index) : '',
        state: m.index >= 0 ? s.result(m.index).state : 'Unknown',
      }));
    return {
      computer: inventory.computer.name,
      updateId: c.updateId(index),
      kb: c.kb(index),
      title: c.title(index),
      state: r.state,
      superseded: r.superseded,
      possiblySuperseded: r.possiblySuperseded,
      reason: s.reason(r),
      prerequisites,
      children,
      rules: slots,
    };
  }
}

export interface Explanation {
  readonly computer: string;
  readonly updateId: string;
  readonly kb: string;
  readonly title: string;
  readonly state: UpdateState;
  readonly superseded: boolean;
  readonly possiblySuperseded: boolean;
  readonly reason: string;
  readonly prerequisites: { kind: string; members: { updateId: string; title: string; inCatalog: boolean; installed: string }[] }[];
  readonly children: { updateId: string; title: string; state: UpdateState }[];
  readonly rules: Partial<Record<RuleSlot, ExplainNode>>;
}

export function formatExplanation(e: Explanation): string {
  const lines = [
    `${e.computer}: ${e.kb ? `KB${e.kb} ` : ''}${e.title || e.updateId}`,
    `State     ${e.state}${e.superseded ? ' (superseded)' : e.possiblySuperseded ? ' (possibly superseded)' : ''}`,
    `Reason    ${e.reason}`,
  ];
  if (e.prerequisites.length) {
    lines.push('', 'Prerequisites:');
    for (const g of e.prerequisites) {
      if (g.kind !== 'update') lines.push(`  at least one of${g.kind === 'atLeastOneCategory' ? ' (categories)' : ''}:`);
      for (const m of g.members)
        lines.push(
          `  ${g.kind === 'update' ? '' : '  '}[installed: ${m.installed}] ${m.updateId}${m.inCatalog ? ` "${m.title}"` : ' (not in the catalog)'}`,
        );
    }
  }
  if (e.children.length) {
    lines.push('', 'Bundled updates:');
    for (const ch of e.children) lines.push(`  [${ch.state}] ${ch.updateId}${ch.title ? ` "${ch.title}"` : ''}`);
  }
  for (const [slot, node] of Object.entries(e.rules)) lines.push('', `${slot}:`, ...formatExplain(node, '  '));
  return lines.join('\n');
}
