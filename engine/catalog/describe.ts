/**
 * Human-readable and JSON descriptions of a compiled catalog and of one update in it
 * (`patchscan catalog info` and `patchscan catalog show`).
 */
import { LEAF_UNPREPARED, scanIndexOf } from './scan-index.js';
import type { RuleNode, RuleSlot } from '../model.js';
import type { Catalog, UpdateRef } from './catalog.js';

export interface CatalogSummary {
  readonly format: number;
  readonly createdAt: string;
  readonly source: Catalog['data']['source'];
  readonly updates: number;
  readonly byType: Record<string, number>;
  readonly categoriesByType: Record<string, number>;
  readonly bundles: number;
  readonly bundleChildren: number;
  readonly withKb: number;
  readonly byClassification: Record<string, number>;
  readonly byProduct: Record<string, number>;
  readonly bySeverity: Record<string, number>;
  readonly relations: { prerequisiteGroups: number; bundleLinks: number; supersedenceLinks: number };
  readonly rules: { nodes: number; facts: number; types: Record<string, number> };
  readonly factsByKind: Record<string, number>;
  readonly import: Catalog['data']['stats'];
  /**
   * The scan index read with the catalog (scan-index.ts): its version and scheme, and how many rule leaves it stores
   * prepared (0 when it has none of this build's version: scans prepare each leaf as they meet it); null when it has none.
   */
  readonly scanIndex: { readonly version: number; readonly scheme: string; readonly preparedLeaves: number } | null;
}

const inc = (o: Record<string, number>, k: string): void => {
  o[k] = (o[k] ?? 0) + 1;
};

export function summarize(c: Catalog): CatalogSummary {
  const d = c.data;
  const index = scanIndexOf(d);
  const byType: Record<string, number> = {};
  const categoriesByType: Record<string, number> = {};
  const byClassification: Record<string, number> = {};
  const byProduct: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  let bundles = 0;
  let bundleChildren = 0;
  let withKb = 0;
  for (let i = 0; i < c.size; i++) {
    const type = c.updateType(i);
    inc(byType, type);
    if (type === 'Category') inc(categoriesByType, c.categoryType(i) ?? 'unknown');
    if (c.isBundle(i)) bundles++;
    if (c.deploymentAction(i) === 'Bundle') bundleChildren++;
    if (c.kb(i)) withKb++;
    // Count each reportable update once: bundles and standalone updates, not bundle children.
    if (c.isReportable(i)) {
      inc(byClassification, c.classification(i) || '(none)');
      for (const p of c.products(i)) inc(byProduct, p);
      if (c.severity(i)) inc(bySeverity, c.severity(i));
    }
  }
  const factsByKind: Record<string, number> = {};
  for (let f = 0; f < d.facts.count; f++) inc(factsByKind, c.fact(f).kind);
  return {
    format: d.version,
    createdAt: d.createdAt,
    source: d.source,
    updates: c.size,
    byType,
    categoriesByType,
    bundles,
    bundleChildren,
    withKb,
    byClassification,
    byProduct,
    bySeverity,
    relations: {
      prerequisiteGroups: d.prerequisites.groupKind.length,
      bundleLinks: d.bundles.guid.length,
      supersedenceLinks: d.supersededBy.target.length,
    },
    rules: { nodes: d.nodes.count, facts: d.facts.count, types: c.ruleTypeCounts() },
    factsByKind,
    import: d.stats,
    scanIndex:
      index === undefined
        ? null
        : {
            version: index.version,
            scheme: index.scheme,
            preparedLeaves: index.leaves === undefined ? 0 : index.leaves.how.reduce((n, h) => n + (h === LEAF_UNPREPARED ? 0 : 1), 0),
          },
  };
}

const sorted = (o: Record<string, number>): string =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
    .join(', ') || 'none';

export function formatSummary(s: CatalogSummary, path: string, bytes: number): string {
  const unsupported = Object.entries(s.rules.types).filter(([k]) => k.startsWith('unsupported:'));
  const lines = [
    `Catalog        ${path} (format ${s.format}, ${(bytes / 1048576).toFixed(2)} MiB)`,
    `Compiled       ${s.createdAt}`,
    `Source         ${s.source.kind} ${s.source.path}`,
    `Source SHA-256 ${s.source.sha256}`,
    `Package        ${s.source.package?.creationDate ? `created ${s.source.package.creationDate}` : 'no package.xml date'}` +
      `${s.source.package?.packageId ? `, id ${s.source.package.packageId}` : ''}`,
    ...(s.source.thirdParty ?? []).map((t, k) => `${k === 0 ? 'Third-party   ' : '              '} ${t.path} (SHA-256 ${t.sha256})`),
    '',
    `Revisions      ${s.updates.toLocaleString('en-US')}: ${sorted(s.byType)}`,
    `Categories     ${sorted(s.categoriesByType)}`,
    `Bundles        ${s.bundles.toLocaleString('en-US')} (with ` +
      `${s.bundleChildren.toLocaleString('en-US')} bundle-only children); ` +
      `${s.withKb.toLocaleString('en-US')} revisions carry a KB`,
    `Classification ${sorted(s.byClassification)}`,
    `Products       ${sorted(s.byProduct)}`,
    `Severity       ${sorted(s.bySeverity)}`,
    `Relations      ${s.relations.prerequisiteGroups.toLocaleString('en-US')} ` +
      `prerequisite entries, ${s.relations.bundleLinks.toLocaleString('en-US')} bundle ` +
      `links, ${s.relations.supersedenceLinks.toLocaleString('en-US')} supersedence links`,
    `Rules          ${s.rules.nodes.toLocaleString('en-US')} nodes reading ${s.rules.facts.toLocaleString('en-US')} distinct facts`,
    `Rule types     ${sorted(Object.fromEntries(Object.entries(s.rules.types).filter(([k]) => !k.startsWith('unsupported:'))))}`,
    `Unsupported    ${unsupported.length ? unsupported.map(([k, v]) => `${k.slice(12)} ${v}`).join(', ') : 'none'}`,
    `Facts by kind  ${sorted(s.factsByKind)}`,
    `Import         ${s.import.packageUpdates} package.xml updates; fragments: ` +
      `${s.import.coreFragments} core, ${s.import.extendedFragments} extended, ` +
      `${s.import.localizedFragments} localized; ${s.import.missingCore} missing core, ` +
      `${s.import.orphanFragments} orphan fragments, ${s.import.unresolvedReferences} ` +
      `references outside the catalog`,
    `Scan index     ${
      s.scanIndex
        ? `stored (version ${s.scanIndex.version}, scheme ${s.scanIndex.scheme.slice(0, 12)}; ` +
          `${s.scanIndex.preparedLeaves.toLocaleString('en-US')} rule leaves prepared)`
        : 'none (scans build it before their first machine; `patchscan catalog import` stores one)'
    }`,
  ];
  return lines.join('\n');
}

const attrText = (attrs: Readonly<Record<string, string>>): string =>
  Object.entries(attrs)
    .map(([k, v]) => `${k}=${/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v}`)
    .join(' ');

/** Renders a rule tree as an indented outline, one node per line. */
export function formatRule(node: RuleNode, indent = ''): string[] {
  switch (node.kind) {
    case 'const':
      return [`${indent}${node.value ? 'True' : 'False'}`];
    case 'and':
    case 'or':
      return [`${indent}${node.kind === 'and' ? 'And' : 'Or'}`, ...node.children.flatMap((c) => formatRule(c, `${indent}  `))];
    case 'not':
      return [`${indent}Not`, ...formatRule(node.child, `${indent}  `)];
    case 'unsupported':
      return [`${indent}UNSUPPORTED ${node.element} (${node.reason})${Object.keys(node.attrs).length ? ` ${attrText(node.attrs)}` : ''}`];
    case 'rule': {
      const items = node.items?.length
        ? ` [${node.items.map((i) => `${i.tag}${Object.keys(i.attrs).length ? ` ${attrText(i.attrs)}` : ''}` + `${i.text ? ` ${i.text}` : ''}`).join('; ')}]`
        : '';
      const head = `${indent}${node.type}${Object.keys(node.attrs).length ? ` ${attrText(node.attrs)}` : ''}${items}`;
      return node.child ? [head, ...formatRule(node.child, `${indent}  `)] : [head];
    }
  }
}

export interface UpdateDescription {
  readonly index: number;
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly revisionId: number;
  readonly kb: string;
  /** `fragment` (the extended fragment's KBArticleID) or `title` (its "(KBnnnnnnn)"); absent without a KB. */
  readonly kbSource?: 'fragment' | 'title';
  readonly title: string;
  readonly type: string;
  readonly categoryType?: string;
  readonly isLeaf: boolean;
  readonly isBundle: boolean;
  readonly deploymentAction: string;
  readonly explicitlyDeployable: boolean;
  readonly classification: string;
  readonly products: string[];
  readonly severity: string;
  readonly cves: string[];
  readonly localized: { language: string; title: string }[];
  readonly prerequisites: { kind: string; members: Ref[] }[];
  readonly bundledUpdates: { kind: string; members: Ref[] }[];
  readonly bundledBy: Ref[];
  readonly supersedes: Ref[];
  readonly supersededBy: Ref[];
  readonly dependents: number;
  readonly rules: Partial<Record<RuleSlot, RuleNode>>;
  readonly metadata?: { element: string; attrs: Record<string, string> };
}

interface Ref {
  readonly updateId: string;
  readonly inCatalog: boolean;
  readonly title?: string;
  readonly kb?: string;
}

export function describeUpdate(c: Catalog, i: number, language = 'en'): UpdateDescription {
  const ref = (r: UpdateRef): Ref =>
    r.index >= 0
      ? { updateId: r.updateId, inCatalog: true, title: c.title(r.index, language), ...(c.kb(r.index) ? { kb: c.kb(r.index) } : {}) }
      : { updateId: r.updateId, inCatalog: false };
  const rules: Partial<Record<RuleSlot, RuleNode>> = {};
  for (const slot of ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const) {
    const root = c.ruleRoot(i, slot);
    if (root >= 0) rules[slot] = c.ruleTree(root);
  }
  const meta = c.metadata(i);
  const ct = c.categoryType(i);
  return {
    index: i,
    updateId: c.updateId(i),
    revisionNumber: c.revisionNumber(i),
    revisionId: c.revisionId(i),
    kb: c.kb(i),
    ...(c.kbSource(i) ? { kbSource: c.kbSource(i) } : {}),
    title: c.title(i, language),
    type: c.updateType(i),
    ...(ct ? { categoryType: ct } : {}),
    isLeaf: c.isLeaf(i),
    isBundle: c.isBundle(i),
    deploymentAction: c.deploymentAction(i),
    explicitlyDeployable: c.explicitlyDeployable(i),
    classification: c.classification(i),
    products: [...c.products(i)],
    severity: c.severity(i),
    cves: c.cves(i),
    localized: c.localized(i).map((l) => ({ language: l.language, title: l.title })),
    prerequisites: c.prerequisites(i).map((g) => ({ kind: g.kind, members: g.members.map(ref) })),
    bundledUpdates: c.bundledUpdates(i).map((g) => ({ kind: g.kind, members: g.members.map(ref) })),
    bundledBy: c.bundledBy(i).map(ref),
    supersedes: c.supersedes(i).map(ref),
    supersededBy: c.supersededBy(i).map(ref),
    dependents: c.dependents(i).length,
    rules,
    ...(meta ? { metadata: meta } : {}),
  };
}

const KB_FROM_TITLE = 'from the title: the extended fragment has no KBArticleID';

export function formatUpdate(d: UpdateDescription): string {
  const r = (x: Ref): string =>
    `${x.updateId}${x.inCatalog ? `${x.kb ? ` KB${x.kb}` : ''}${x.title ? ` "${x.title}"` : ''}` : ' (not in this catalog)'}`;
  const group = (g: { kind: string; members: Ref[] }): string[] =>
    g.kind === 'update'
      ? [`  - ${r(g.members[0]!)}`]
      : [`  - at least one of${g.kind === 'atLeastOneCategory' ? ' (categories)' : ''}:`, ...g.members.map((m) => `      ${r(m)}`)];
  const flags = [
    d.type + (d.categoryType ? ` (${d.categoryType})` : ''),
    d.isBundle ? 'bundle' : '',
    d.isLeaf ? 'leaf' : 'non-leaf',
    d.explicitlyDeployable ? 'explicitly deployable' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const out = [
    `${d.kb ? `KB${d.kb}  ` : ''}${d.title || '(no title)'}`,
    `UpdateId        ${d.updateId}  revision ${d.revisionNumber}  (RevisionId ${d.revisionId})`,
    `KB              ${d.kb ? `KB${d.kb} (${d.kbSource === 'title' ? KB_FROM_TITLE : 'KBArticleID of the extended fragment'})` : '-'}`,
    `Type            ${flags}; DeploymentAction ${d.deploymentAction}`,
    `Classification  ${d.classification || '-'}`,
    `Products        ${d.products.join(', ') || '-'}`,
    `Severity        ${d.severity || '-'}${d.cves.length ? `   CVEs ${d.cves.join(', ')}` : ''}`,
  ];
  if (d.localized.length > 1) out.push(`Titles          ${d.localized.map((l) => `[${l.language}] ${l.title}`).join(' | ')}`);
  const section = (title: string, lines: string[]): void => {
    out.push('', `${title}${lines.length ? '' : ' none'}`, ...lines);
  };
  section('Prerequisites:', d.prerequisites.flatMap(group));
  section('Bundled updates:', d.bundledUpdates.flatMap(group));
  section(
    'Bundled by:',
    d.bundledBy.map((x) => `  - ${r(x)}`),
  );
  section(
    'Supersedes:',
    d.supersedes.map((x) => `  - ${r(x)}`),
  );
  section(
    'Superseded by:',
    d.supersededBy.map((x) => `  - ${r(x)}`),
  );
  out.push('', `Required by     ${d.dependents} update(s) list this one as a prerequisite`);
  const slots = Object.entries(d.rules) as [RuleSlot, RuleNode][];
  section(
    'Applicability rules:',
    slots.flatMap(([slot, node]) => [`  ${slot}:`, ...formatRule(node, '    ')]),
  );
  if (d.metadata) out.push(`  Metadata: ${d.metadata.element} ${attrText(d.metadata.attrs)}`);
  return out.join('\n');
}
