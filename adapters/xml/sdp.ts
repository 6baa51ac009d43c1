/**
 * SCUP/WSUS local-publishing packages (`sdp:SoftwareDistributionPackage`, CorporatePublishing namespaces): the
 * same rule language as Microsoft's catalog, in namespaced form (reference §2.1). One package becomes one
 * {@link UpdateRecord}; vendor catalogs (HP, Dell…) can then be compiled beside Microsoft's.
 *
 * Rules at the package level and in the installable item are combined with And, as Microsoft documents
 * ("If they are specified in both places, the expressions are combined (using the Boolean AND operator)").
 */
import { classificationId } from '../../engine/catalog/classifications.js';
import { PatchscanError } from '../../engine/errors.js';
import { SEVERITIES, type RuleNode, type RuleSlot, type Severity, type UpdateRecord } from '../../engine/model.js';
import { child, childrenNamed, localName, parseXml, type XmlElement } from './dom.js';
import { guid } from './fragments.js';
import { parseRule } from './rules.js';

function slotRule(parent: XmlElement | undefined, slot: RuleSlot): RuleNode | undefined {
  const all = parent ? childrenNamed(parent, slot) : [];
  const s = all[0];
  if (!s) return undefined;
  // A slot given twice has no one expression: Unknown, naming it (the first alone could answer otherwise).
  if (all.length > 1) return { kind: 'unsupported', element: slot, attrs: {}, reason: `${slot} is given ${all.length} times` };
  return s.children.length === 1
    ? parseRule(s.children[0]!)
    : { kind: 'unsupported', element: s.name, attrs: {}, reason: `${slot} must hold exactly one expression, found ${s.children.length}` };
}

function both(a: RuleNode | undefined, b: RuleNode | undefined): RuleNode | undefined {
  return a && b ? { kind: 'and', children: [a, b] } : (a ?? b);
}

export function parseSoftwareDistributionPackage(xml: string, source: string): UpdateRecord {
  const roots = parseXml(xml, source);
  const root = roots.find((r) => localName(r.name) === 'SoftwareDistributionPackage');
  const bad = (m: string): PatchscanError => new PatchscanError('CATALOG_BAD_FORMAT', `${source}: ${m}`, { file: source });
  if (!root) throw bad('no SoftwareDistributionPackage root element');
  const props = child(root, 'Properties');
  const id = guid(props?.attrs.PackageID);
  if (!/^[0-9a-f-]{36}$/.test(id)) throw bad(`Properties has no valid PackageID (${JSON.stringify(props?.attrs.PackageID ?? null)})`);
  const items = childrenNamed(root, 'InstallableItem');
  if (items.length !== 1) throw bad(`expected one InstallableItem, found ${items.length} (multi-item packages are not supported)`);
  const rules = child(items[0]!, 'ApplicabilityRules');
  const usd = child(root, 'UpdateSpecificData');
  const sev = usd?.attrs.MsrcSeverity ?? '';
  const classification = usd?.attrs.UpdateClassification;
  const kb = usd && child(usd, 'KBArticleID')?.text;
  const out: Partial<Record<RuleSlot, RuleNode>> = {};
  for (const slot of ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const) {
    const r = both(slotRule(root, slot), slotRule(rules, slot));
    if (r) out[slot] = r;
  }
  const supersedes = child(root, 'SupersededPackages');
  return {
    updateId: id,
    revisionNumber: 1,
    revisionId: 0,
    updateType: 'Software',
    ...(props?.attrs.CreationDate ? { creationDate: props.attrs.CreationDate } : {}),
    defaultLanguage: 'en',
    isLeaf: true,
    isBundle: false,
    deploymentAction: 'Install',
    explicitlyDeployable: true,
    categories: classification ? [{ type: 'UpdateClassification', id: classificationId(classification) ?? classification }] : [],
    prerequisites: [],
    bundledUpdates: [],
    bundledByRevisionIds: [],
    supersedes: supersedes ? childrenNamed(supersedes, 'PackageID').map((p) => guid(p.text)) : [],
    supersededByRevisionIds: [],
    rules: out,
    ...(kb ? { kb } : {}),
    severity: (SEVERITIES as readonly string[]).includes(sev) ? (sev as Severity) : '',
    cves: [],
    ...(props && child(props, 'SupportUrl')?.text ? { supportUrl: child(props, 'SupportUrl')!.text } : {}),
    localized: childrenNamed(root, 'LocalizedProperties').map((l) => ({
      language: child(l, 'Language')?.text ?? 'en',
      title: child(l, 'Title')?.text ?? '',
      ...(child(l, 'Description')?.text ? { description: child(l, 'Description')!.text } : {}),
    })),
  };
}
