/**
 * Evaluation of the catalog's rule trees: And/Or/Not are interpreted straight from the compiled catalog's node
 * arrays; a leaf rule is prepared at its first evaluation, as a record of numbers a table evaluates where its type has
 * a numbered form (numbered-forms.ts), else as a closure compiled once that a scan calls with a machine's
 * {@link EvalContext}. An explanation walks the same nodes through each leaf's closure (compiled then if it was not)
 * and records what each leaf read.
 */
import type { Catalog } from '../catalog/catalog.js';
import { OP_AND, OP_FALSE, OP_NOT, OP_OR, OP_TRUE, OP_UNSUPPORTED, RULE_OP_BASE } from '../catalog/data.js';
import { SLOT_IS_INSTALLABLE, SLOT_IS_INSTALLED, SLOT_IS_SUPERSEDED } from '../catalog/codes.js';
import {
  LEAF_CBS_INSTALLABLE,
  LEAF_CBS_INSTALLED,
  LEAF_CLOSURE,
  LEAF_FILE_VERSION,
  LEAF_MSI_PATCH,
  LEAF_REG_VALUE,
  LEAF_UNPREPARED,
  PREPARED_LEAVES_VERSION,
  scanIndexOf,
  type PreparedLeaves,
} from '../catalog/scan-index.js';
import type { EvalContext, FactReading } from './context.js';
import { checkBooleanAttributes } from './compare.js';
import { unknownLeaf, type CompiledNode, type RuleCompiler } from './leaf.js';
import type { KnownRuleType } from '../rules/registry.js';
import { isConstant, ruleWants, type CitedLeaf } from './reason.js';
import { FILE_REGISTRY_RULES } from './evaluators/file-registry.js';
import { OS_RULES } from './evaluators/os.js';
import { cbsInstallableOf, cbsInstalledOf, PACKAGE_RULES, type CbsInstallableRule } from './evaluators/packages.js';
import type { EvaluatorTable } from './evaluators/table.js';
import { F, T, U, not, triName, type Tri } from './tri.js';
import { MsiPatchTable } from './msi-patch-table.js';
import { FileVersionRules } from './file-version-table.js';
import { RegValueRules } from './reg-value-table.js';
import { hasNumberedForm, numberedForm, type NumberedForm } from './numbered-forms.js';
import { preparedLeavesScheme } from './leaf-scheme.js';

/** Evaluators by rule type (each table `satisfies EvaluatorTable`: a misspelled rule type does not compile). */
export const EVALUATORS = { ...OS_RULES, ...FILE_REGISTRY_RULES, ...PACKAGE_RULES } satisfies EvaluatorTable;

const DRIVERS = "driver rules need the machine's devices and driver store, which an inventory does not carry";
const DEVICE = 'device capabilities are not collected';
const MSI_PATCH = 'it needs the patch applicability blob (MsiPatch), which patchscan does not evaluate';

/**
 * Why a known rule has no evaluator (shown in Unknown reasons). Every registered rule type is either evaluated or
 * listed here, never both: the type makes a rule added to the registry without either fail to compile.
 */
const NOT_EVALUATED = {
  InstalledOnce: 'its semantics are undocumented',
  GenericQuery: 'its semantics are undocumented',
  ClusterResourceOwner: 'cluster resource ownership is not collected',
  WUv4RegKeyValue: 'its semantics are undocumented',
  WUv4RegKeySubstring: 'its semantics are undocumented',
  AppxPackageInstalled: 'Store (appx) applicability is not evaluated',
  AppxPackageInstallable: 'Store (appx) applicability is not evaluated',
  MsiPatchSuperseded: MSI_PATCH,
  MsiPatchInstallable: MSI_PATCH,
  MsiApplicationSuperseded: 'MSI application supersedence is not evaluated offline',
  MsiApplicationInstallable: 'MSI application applicability is not evaluated offline',
  Direct3D: DEVICE,
  Memory: DEVICE,
  VideoMemory: DEVICE,
  SensorById: DEVICE,
  NFC: DEVICE,
  Camera: DEVICE,
  WindowsDriverInstalled: DRIVERS,
  WindowsDriverSuperseded: DRIVERS,
  WindowsDriverInstallable: DRIVERS,
  FeatureScore: DRIVERS,
  DistributionComputerHardwareId: DRIVERS,
  TargetComputerHardwareId: DRIVERS,
  CompatibleProvider: DRIVERS,
  InstalledVersionRange: DRIVERS,
} as const satisfies Record<Exclude<KnownRuleType, keyof typeof EVALUATORS>, string>;

function evaluatorOf(type: string): RuleCompiler | undefined {
  return Object.hasOwn(EVALUATORS, type) ? (EVALUATORS as EvaluatorTable)[type as KnownRuleType] : undefined;
}

export interface ExplainNode {
  /** Rule text: `And`, `FileVersion Path=\conhost.exe Csidl=37 …`, `UNSUPPORTED b.RegQword (unknown rule element)`. */
  readonly rule: string;
  readonly value: 'True' | 'False' | 'Unknown';
  /** Facts this leaf read, with the machine's values. */
  readonly reads: readonly FactReading[];
  /** A leaf's condition as a phrase (`OSSkuId = 119`), when patchscan has one for its rule type (reason.ts). */
  readonly wants?: string;
  readonly children: readonly ExplainNode[];
}

const attrText = (attrs: Readonly<Record<string, string>>): string =>
  Object.entries(attrs)
    .filter(([k]) => !k.startsWith('$'))
    .map(([k, v]) => `${k}=${/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v}`)
    .join(' ');

/** A child count this large or larger is not in the head: the node's range is read from the catalog's offsets. */
const MANY_CHILDREN = 0xffff;

/** An update's Metadata element (Catalog.metadata), shared by the leaves of its rules: read, never changed. */
type Meta = { readonly element: string; readonly attrs: Readonly<Record<string, string>> };

export class RuleProgram {
  /**
   * Leaf closures, compiled on first use: at a leaf's first evaluation when it has no numbered form, else only when an
   * explanation, a RegKeyLoop or {@link node} asks for one. And/Or/Not/True/False are interpreted from the typed arrays.
   */
  private readonly leaves: (CompiledNode | undefined)[];
  /**
   * What the interpreter reads of node `id`, in one place (a scan visits thousands of nodes of a catalog far larger
   * than the CPU caches, and each array read apart is a likely cache miss): at 2 × id, the opcode (bits 0-7), for a
   * leaf how it is evaluated (LEAF_*, bits 8-15), for And/Or/Not its child count (bits 16-31, MANY_CHILDREN past
   * it); at 2 × id + 1, an operator's first child (in `kids`) or a numbered leaf's number in the table that
   * evaluates it (msi-patch-table.ts, file-version-table.ts, reg-value-table.ts), for a CBS package installed its fact,
   * for a CBS package installable its place in `cbsInstallables`.
   */
  private readonly head: Int32Array;
  private readonly childOffsets: Uint32Array;
  private readonly kids: Uint32Array;
  private readonly msiPatches = new MsiPatchTable();
  private readonly fileVersions = new FileVersionRules();
  private readonly regValues = new RegValueRules();
  /** The numbered CbsPackageInstallable rules: each one's parsed identity, and its fact. */
  private readonly cbsInstallables: CbsInstallableRule[] = [];
  private readonly cbsInstallableFacts: number[] = [];

  constructor(readonly catalog: Catalog) {
    const n = catalog.data.nodes;
    this.leaves = new Array<CompiledNode | undefined>(n.count);
    this.childOffsets = n.childOffsets;
    this.kids = n.children;
    this.head = new Int32Array(n.count * 2);
    // The leaves the catalog's scan index prepared at import (checked when it was read: catalog/scan-index.ts).
    // Under this build's scheme only (leaf-scheme.ts): else each leaf is prepared as it is met.
    const kept = scanIndexOf(catalog.data)?.leaves;
    const stored = kept?.scheme === preparedLeavesScheme() ? kept : undefined;
    if (stored !== undefined) {
      this.fileVersions.load(stored.fileVersions);
      this.regValues.load(stored.regValues, stored.regValueTypes);
      this.msiPatches.load(stored.msiProducts, stored.msiPatches);
    }
    for (let id = 0; id < n.count; id++) {
      const op = n.op[id]!;
      if (op === OP_AND || op === OP_OR || op === OP_NOT) {
        const count = Math.min(n.childOffsets[id + 1]! - n.childOffsets[id]!, MANY_CHILDREN);
        this.head[2 * id] = op | (count << 16);
        this.head[2 * id + 1] = n.childOffsets[id]!;
      } else if (stored !== undefined && stored.how[id] !== LEAF_UNPREPARED) {
        this.head[2 * id] = op | (stored.how[id]! << 8);
        this.head[2 * id + 1] = stored.number[id]!;
      } else this.head[2 * id] = op;
    }
  }

  /** How many rule leaves are set up to be evaluated (prepared at a first evaluation, or stored by the scan index). */
  get preparedLeafCount(): number {
    let n = 0;
    for (let k = 0; k < this.head.length; k += 2) if ((this.head[k]! & 0xff) >= OP_UNSUPPORTED && this.head[k]! >>> 8 !== 0) n++;
    return n;
  }

  /** Evaluates node `id` for the machine in `ctx`. */
  eval(id: number, ctx: EvalContext): Tri {
    const h = this.head[2 * id]!;
    const op = h & 0xff;
    if (op === OP_AND || op === OP_OR) {
      const stop: Tri = op === OP_AND ? F : T;
      let unknown = false;
      const first = this.head[2 * id + 1]!;
      const count = h >>> 16;
      const end = count === MANY_CHILDREN ? this.childOffsets[id + 1]! : first + count;
      for (let k = first; k < end; k++) {
        const r = this.eval(this.kids[k]!, ctx);
        if (r === stop) return stop;
        if (r === U) unknown = true;
      }
      return unknown ? U : op === OP_AND ? T : F;
    }
    if (op === OP_NOT) return not(this.eval(this.kids[this.head[2 * id + 1]!]!, ctx));
    if (op === OP_TRUE) return T;
    if (op === OP_FALSE) return F;
    let how = (h >>> 8) & 0xff;
    if (how === 0) how = this.prepare(id);
    // Explaining goes through the closure: it records what the rule read. So does a leaf inside a RegKeyLoop: the
    // tables keep one value per machine, and a loop over the 32-bit view changes what a native-view fact reads.
    if (how > LEAF_CLOSURE && ctx.readings === undefined && ctx.loopTarget === undefined) {
      const n = this.head[2 * id + 1]!;
      switch (how) {
        case LEAF_FILE_VERSION:
          return this.fileVersions.evaluate(ctx, n);
        case LEAF_CBS_INSTALLED:
          return cbsInstalledOf(ctx.fact(n));
        case LEAF_REG_VALUE:
          return this.regValues.evaluate(ctx, n);
        case LEAF_CBS_INSTALLABLE:
          return cbsInstallableOf(ctx, ctx.fact(this.cbsInstallableFacts[n]!), this.cbsInstallables[n]!);
        default:
          return this.msiPatches.evaluate(ctx, n);
      }
    }
    return (this.leaves[id] ??= this.compile(id))(ctx);
  }

  /** Node `id` as a function of the machine (RegKeyLoop calls its child this way). */
  node(id: number): CompiledNode {
    const op = this.head[2 * id]! & 0xff;
    if (op === OP_AND || op === OP_OR || op === OP_NOT || op === OP_TRUE || op === OP_FALSE) return (ctx) => this.eval(id, ctx);
    return (this.leaves[id] ??= this.compile(id));
  }

  private children(id: number): number[] {
    const n = this.catalog.data.nodes;
    return Array.from(n.children.subarray(n.childOffsets[id], n.childOffsets[id + 1]));
  }

  /** Name of the rule at node `id` (`And`, `FileVersion`, `b.RegQword`…). */
  ruleName(id: number): string {
    const op = this.catalog.data.nodes.op[id]!;
    if (op === OP_UNSUPPORTED) return this.catalog.nodeAttrs(id).$element ?? 'unsupported';
    return ['False', 'True', 'And', 'Or', 'Not'][op] ?? this.catalog.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`;
  }

  label(id: number): string {
    const op = this.catalog.data.nodes.op[id]!;
    const attrs = this.catalog.nodeAttrs(id);
    if (op === OP_UNSUPPORTED) return `UNSUPPORTED ${attrs.$element} (${attrs.$reason})${attrText(attrs) ? ` ${attrText(attrs)}` : ''}`;
    const a = attrText(attrs);
    return `${this.ruleName(id)}${a ? ` ${a}` : ''}`;
  }

  private compile(id: number): CompiledNode {
    const c = this.catalog;
    const op = c.data.nodes.op[id]!;
    switch (op) {
      case OP_UNSUPPORTED: {
        const a = c.nodeAttrs(id);
        return unknownLeaf(`rule ${a.$element} is not supported: ${a.$reason}`);
      }
      default: {
        const type = c.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`;
        const compiler = evaluatorOf(type);
        const why = (NOT_EVALUATED as Readonly<Record<string, string>>)[type] ?? 'no evaluator';
        if (!compiler) return unknownLeaf(`rule ${type} is not evaluated: ${why}`);
        const facts = c.nodeFacts(id);
        const infos = facts.map((f) => c.fact(f));
        const { $items, ...attrs } = c.nodeAttrs(id);
        const from = c.data.nodes.childOffsets[id]!;
        const child = from < c.data.nodes.childOffsets[id + 1]! ? c.data.nodes.children[from]! : -1;
        try {
          // One object shape for every rule (optional parts present as undefined): the closures read `input`
          // on the hot path, and V8 keeps that fast only while all inputs look alike.
          checkBooleanAttributes(attrs);
          const closure = compiler({
            type,
            attrs,
            facts,
            factKinds: infos.map((f) => f.kind),
            factArgs: infos.map((f) => f.args),
            items: $items ? (JSON.parse($items) as []) : [],
            meta: this.metaFor(id),
            child: child >= 0 ? this.node(child) : undefined,
          });
          return closure;
        } catch (e) {
          // Bad attribute data in the catalog (WU_E_EE_INVALID_ATTRIBUTEDATA): the rule is Unknown, not a crash.
          return unknownLeaf(`rule ${type} has invalid attribute data: ${(e as Error).message}`);
        }
      }
    }
  }

  /**
   * Sets how leaf `id` is evaluated, at its first evaluation: by a table of numbers when its rule type has a numbered
   * form (numbered-forms.ts) and the table has room, else by its closure, compiled now. A numbered leaf gets no closure
   * until an explanation or a RegKeyLoop asks for one: all but a few dozen of the ~40,000 leaves a scanner meets on a
   * 50,000-revision catalog are numbered, and a closure's inputs and captures are kept for the life of the process (the
   * collector copies them as they age). Without them a scanner's first 500 distinct machines take about a quarter less
   * time (bench/RESULTS.md, 2026-12-02 19:13–22:13).
   */
  private prepare(id: number): number {
    const { how, n } = this.number(this.formOf(id), true);
    if (how === LEAF_CLOSURE) this.leaves[id] ??= this.compile(id);
    this.head[2 * id] = (this.head[2 * id]! & 0xff) | (how << 8);
    this.head[2 * id + 1] = n;
    return how;
  }

  /** Leaf `id`'s numbered form, or undefined when its closure evaluates it. */
  private formOf(id: number): NumberedForm | undefined {
    const c = this.catalog;
    const op = c.data.nodes.op[id]!;
    const type = op >= RULE_OP_BASE ? c.data.ruleTypes[op - RULE_OP_BASE] : undefined;
    if (type === undefined || !hasNumberedForm(type)) return undefined;
    try {
      // Checked here as compile() checks it: a form is read only for a leaf its compiler takes.
      const attrs = c.nodeAttrs(id);
      checkBooleanAttributes(attrs);
      return numberedForm(type, {
        attrs,
        facts: c.nodeFacts(id),
        loopRelative: (f) => c.fact(f).loopRelative,
        meta: () => this.metaFor(id),
      });
    } catch {
      // Attributes its compiler refuses too: the closure is the Unknown leaf that says why.
      return undefined;
    }
  }

  /**
   * How a leaf of numbered form `form` is evaluated, and its number in that table (added to it): LEAF_CLOSURE when it
   * has none or its table is full. Without `all`, only what a scan index stores (catalog/scan-index.ts): a form it
   * cannot keep — a CbsPackageInstallable rule, a version past 32 bits — is LEAF_UNPREPARED, and nothing is added.
   */
  private number(form: NumberedForm | undefined, all: boolean): { readonly how: number; readonly n: number } {
    let how = all ? LEAF_CLOSURE : LEAF_UNPREPARED,
      n = 0;
    if (form?.table === 'msiPatch') {
      n = this.msiPatches.key(form.product, form.patch);
      if (n >= 0) how = LEAF_MSI_PATCH;
    } else if (form?.table === 'fileVersion' && (all || FileVersionRules.storable(form.want))) {
      n = this.fileVersions.add(form.fact, form.op, form.want);
      how = LEAF_FILE_VERSION;
    } else if (form?.table === 'cbsInstalled') {
      n = form.fact;
      how = LEAF_CBS_INSTALLED;
    } else if (form?.table === 'cbsInstallable' && all) {
      n = this.cbsInstallables.push(form.rule) - 1;
      this.cbsInstallableFacts.push(form.fact);
      how = LEAF_CBS_INSTALLABLE;
    } else if (form?.table === 'regValueExists') {
      n = this.regValues.addExists(form.fact, form.type);
      how = LEAF_REG_VALUE;
    } else if (form?.table === 'regDword') {
      n = this.regValues.addDword(form.fact, form.op, form.want);
      how = LEAF_REG_VALUE;
    }
    // A full MSI table left it a closure (-1, as before); unprepared, its number is 0.
    if (how === LEAF_UNPREPARED) n = 0;
    return { how, n };
  }

  /**
   * Every leaf a scan would number, numbered as its first evaluation would number it, for the catalog's scan index
   * (fleet/scan-index.ts): what a program over that index starts with. Only of a program that has prepared no leaf
   * yet, over a catalog without prepared leaves (the numbers are then the tables' from empty).
   *
   * Numbered in the order a scan meets them — updates in `order` (the decision layout's: FlatLayout.updateAt), each
   * one's IsInstalled, IsSuperseded then IsInstallable tree depth first — so that the records a machine reads
   * together sit together, as they do when each scan numbers leaves as it meets them: numbered in node order, a
   * machine's ~1,000 file version records were spread over the whole table, and machines past the first 500 took
   * ~8 % longer (bench/RESULTS.md, 2026-12-03 23:38–02:38).
   */
  preparedLeaves(order?: ArrayLike<number>): PreparedLeaves {
    const c = this.catalog;
    const nodes = c.data.nodes;
    if (this.preparedLeafCount > 0) throw new Error('preparedLeaves: this program has prepared leaves already');
    const how = new Uint8Array(nodes.count);
    const number = new Int32Array(nodes.count);
    const seen = new Uint8Array(nodes.count);
    const visit = (id: number): void => {
      seen[id] = 1;
      if (nodes.op[id]! < RULE_OP_BASE) return;
      const r = this.number(this.formOf(id), false);
      how[id] = r.how;
      number[id] = r.n;
    };
    const stack: number[] = [];
    const updates = order ?? { length: c.size };
    for (let k = 0; k < updates.length; k++) {
      const u = order === undefined ? k : order[k]!;
      for (const slot of [SLOT_IS_INSTALLED, SLOT_IS_SUPERSEDED, SLOT_IS_INSTALLABLE]) {
        const root = c.data.updates.rules[u * 3 + slot]!;
        if (root >= 0) stack.push(root);
        while (stack.length > 0) {
          const id = stack.pop()!;
          if (seen[id] === 1) continue;
          visit(id);
          for (let j = nodes.childOffsets[id + 1]! - 1; j >= nodes.childOffsets[id]!; j--) stack.push(nodes.children[j]!);
        }
      }
    }
    // Any leaf no update's tree reaches (none in a catalog the builder made), after them.
    for (let id = 0; id < nodes.count; id++) if (seen[id] === 0) visit(id);
    const reg = this.regValues.stored();
    const msi = this.msiPatches.codes();
    return {
      version: PREPARED_LEAVES_VERSION,
      scheme: preparedLeavesScheme(),
      how,
      number,
      fileVersions: this.fileVersions.stored(),
      regValues: reg.records,
      regValueTypes: reg.types,
      msiProducts: msi.products,
      msiPatches: msi.patches,
    };
  }

  private metaOwner: Int32Array | undefined;
  /** Per update, its Metadata as metaFor gave it (null: none; undefined: not read yet). */
  private metas: (Meta | null | undefined)[] | undefined;

  /** The Metadata blob of the update that owns rule node `id` (CBS/MSI rules evaluate against it). */
  private metaFor(id: number): Meta | undefined {
    if (!this.metaOwner) {
      // A node shared by several updates' trees belongs to the last of them (the highest index). Walking the updates
      // from the last, a node already marked has its whole subtree marked by a later update: it is not walked again
      // (a subtree shared by a thousand updates was walked a thousand times).
      const c = this.catalog;
      const { childOffsets, children } = c.data.nodes;
      const owner = new Int32Array(c.data.nodes.count).fill(-1);
      const stack: number[] = [];
      for (let u = c.size - 1; u >= 0; u--) {
        for (let s = 0; s < 3; s++) {
          const root = c.data.updates.rules[u * 3 + s]!;
          if (root >= 0) stack.push(root);
        }
        while (stack.length > 0) {
          const node = stack.pop()!;
          if (owner[node] !== -1) continue;
          owner[node] = u;
          for (let k = childOffsets[node]!; k < childOffsets[node + 1]!; k++) stack.push(children[k]!);
        }
      }
      this.metaOwner = owner;
    }
    const u = this.metaOwner[id]!;
    if (u < 0) return undefined;
    // Decoded once per update: the CBS and MSI leaves of one update each ask for it (~9 % of a scanner's first machines).
    const metas = (this.metas ??= new Array<Meta | null | undefined>(this.catalog.size));
    let m = metas[u];
    if (m === undefined) metas[u] = m = this.catalog.metadata(u) ?? null;
    return m ?? undefined;
  }

  /**
   * The leaf a reason cites for the rule tree at `root` — the one reason.ts citedLeafOf finds in `explain(root)`'s
   * tree — without building that tree: only node values (as the scan computes them) along the way, and the cited leaf
   * explained. A reason is asked for every outcome of a site's scan; explaining every leaf of every tree, with its
   * label and readings, was most of a reason's cost, for one leaf cited.
   */
  citedLeaf(root: number, ctx: EvalContext): CitedLeaf {
    const nodes = this.catalog.data.nodes;
    let negated = false;
    let alsoHold = 0;
    let alsoFail = 0;
    let id = root;
    for (;;) {
      const op = nodes.op[id]!;
      if (op !== OP_AND && op !== OP_OR && op !== OP_NOT) break;
      const kids = this.children(id);
      if (kids.length === 0) break;
      if (op === OP_NOT) {
        negated = !negated;
        id = kids[0]!;
        continue;
      }
      const vals = kids.map((k) => this.valueOf(k, ctx));
      const value = this.fold(op, vals);
      let next = -1;
      let same = 0;
      for (let k = 0; k < kids.length; k++) {
        if (vals[k] !== value) continue;
        same++;
        if (next < 0 && !this.isConstantNode(kids[k]!, ctx)) next = k;
      }
      if (same === 0) break;
      if (next < 0) next = vals.indexOf(value);
      if (same === kids.length) {
        let others = 0;
        for (let k = 0; k < kids.length; k++) if (k !== next) others += this.flatCount(kids[k]!, op);
        if (op === OP_AND && value === T) alsoHold += others;
        if (op === OP_OR && value === F) alsoFail += others;
      }
      id = kids[next]!;
    }
    return { leaf: this.explain(id, ctx), negated, alsoHold, alsoFail };
  }

  /** Node `id`'s value as explain() folds it (And/Or/Not over every child, leaves as evaluated). */
  private valueOf(id: number, ctx: EvalContext): Tri {
    const op = this.catalog.data.nodes.op[id]!;
    if (op !== OP_AND && op !== OP_OR && op !== OP_NOT) return this.eval(id, ctx);
    const from = this.childOffsets[id]!,
      to = this.childOffsets[id + 1]!;
    // A Not without a child folds as explain() folds it: Not of nothing is True.
    if (op === OP_NOT) return from < to ? not(this.valueOf(this.kids[from]!, ctx)) : T;
    let sawF = false,
      sawT = false,
      sawU = false;
    for (let k = from; k < to; k++) {
      const v = this.valueOf(this.kids[k]!, ctx);
      if (v === F) sawF = true;
      else if (v === T) sawT = true;
      else sawU = true;
    }
    if (op === OP_AND) return sawF ? F : sawU ? U : T;
    return sawT ? T : sawU ? U : F;
  }

  /** An And, Or or Not node's value from its children's (explain's fold; a Not of nothing is True). */
  private fold(op: number, vals: readonly Tri[]): Tri {
    if (op === OP_NOT) return vals.length > 0 ? not(vals[0]!) : T;
    if (op === OP_AND) return vals.includes(F) ? F : vals.includes(U) ? U : T;
    return vals.includes(T) ? T : vals.includes(U) ? U : F;
  }

  /** Whether explain(id) is a constant (reason.ts isConstant): only a True or False leaf can be, so only those are explained. */
  private isConstantNode(id: number, ctx: EvalContext): boolean {
    const op = this.catalog.data.nodes.op[id]!;
    if (op !== OP_TRUE && op !== OP_FALSE) return false;
    return isConstant(this.explain(id, ctx));
  }

  /** reason.ts flatCount over node ids: how many conditions `id` stands for inside an `op` node. */
  private flatCount(id: number, op: number): number {
    if (this.catalog.data.nodes.op[id]! !== op) return 1;
    let n = 0;
    for (let k = this.childOffsets[id]!; k < this.childOffsets[id + 1]!; k++) n += this.flatCount(this.kids[k]!, op);
    return n;
  }

  /** Evaluates node `id` recording, for every node, its value and the facts read (no short-circuit). */
  explain(id: number, ctx: EvalContext): ExplainNode {
    const op = this.catalog.data.nodes.op[id]!;
    if (op === OP_AND || op === OP_OR || op === OP_NOT) {
      const kids = this.children(id).map((k) => this.explain(k, ctx));
      const vals = kids.map((k) => (k.value === 'True' ? T : k.value === 'False' ? F : U));
      return { rule: this.ruleName(id), value: triName(this.fold(op, vals)), reads: [], children: kids };
    }
    const saved = ctx.readings;
    ctx.readings = [];
    const v = this.eval(id, ctx);
    const reads = ctx.readings;
    ctx.readings = saved;
    // A leaf's own child (RegKeyLoop) only has a value per subkey, inside the loop: the leaf's reads say it.
    const { rule, wants } = this.leafText(id);
    return { rule, value: triName(v), reads, children: [], ...(wants !== undefined ? { wants } : {}) };
  }

  /** Per leaf explained: its label and condition phrase (the catalog's, the same on every machine). */
  private readonly leafTexts = new Map<number, { readonly rule: string; readonly wants: string | undefined }>();

  private leafText(id: number): { readonly rule: string; readonly wants: string | undefined } {
    let t = this.leafTexts.get(id);
    if (t === undefined) {
      const op = this.catalog.data.nodes.op[id]!;
      const { $items: _, ...attrs } = this.catalog.nodeAttrs(id);
      const wants = op === OP_UNSUPPORTED || op === OP_TRUE || op === OP_FALSE ? undefined : ruleWants(this.ruleName(id), attrs);
      this.leafTexts.set(id, (t = { rule: this.label(id), wants }));
    }
    return t;
  }
}

/**
 * The tree, one node per line: value, rule, and for a leaf what it read and what the rule wanted there — "excludes"
 * under an odd number of Nots (`negated`), so a False leaf under Not does not read as what the machine has.
 */
export function formatExplain(e: ExplainNode, indent = '', negated = false): string[] {
  const reads = e.reads.map((r) => `${r.fact}: ${r.value}`).join('; ');
  const wants = e.wants !== undefined ? `the rule ${negated ? 'excludes' : 'requires'} ${e.wants}` : '';
  const notes = [reads, wants].filter(Boolean).join('; ');
  const inner = e.children.length > 0 && e.rule === 'Not' ? !negated : negated;
  const line = `${indent}[${e.value}] ${e.rule}${notes ? `   ← ${notes}` : ''}`;
  return [line, ...e.children.flatMap((k) => formatExplain(k, `${indent}  `, inner))];
}
