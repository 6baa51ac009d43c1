/**
 * The per-revision XML fragments of wsusscn2's range cabinets (reference §1.4, §2.6):
 * `c/<RevisionId>` core, `x/<RevisionId>` extended, `l/<lang>/<RevisionId>` localized.
 *
 * Fragments have no root element and no namespaces (base rules are renamed `b.X`, MSI `m.X`, driver `d.X`);
 * we parse them wrapped in a root. The same code also reads namespaced full documents (`upd:`, `bar:`…).
 */
import { PatchscanError } from '../../engine/errors.js';
import {
  CATEGORY_TYPES,
  SEVERITIES,
  UPDATE_TYPES,
  type BundleGroup,
  type BundledRef,
  type CategoryType,
  type CoreFragment,
  type ExtendedFragment,
  type LocalizedText,
  type Prerequisite,
  type RuleMetadata,
  type RuleNode,
  type RuleSlot,
  type Severity,
  type UpdateType,
} from '../../engine/model.js';
import { child, childrenNamed, localName, parseXml, type XmlElement, type XmlLimits } from './dom.js';
import { parseRule } from './rules.js';

const WRAP = 'PatchscanFragment';

function badFormat(source: string, message: string): PatchscanError {
  return new PatchscanError('CATALOG_BAD_FORMAT', `${source}: ${message}`, { file: source });
}

/** Parses fragment text (no root) into its top-level elements, unwrapping an existing single root. */
export function fragmentElements(xml: string, source: string, limits?: XmlLimits): readonly XmlElement[] {
  // An XML declaration may only open a document, so drop it before wrapping.
  const body = xml.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, '');
  const [root] = parseXml(`<${WRAP}>${body}</${WRAP}>`, source, limits);
  return root?.children ?? [];
}

export const guid = (s: string | undefined): string => (s ?? '').trim().toLowerCase();

function bool(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function parsePrerequisites(el: XmlElement | undefined): Prerequisite[] {
  if (!el) return [];
  const out: Prerequisite[] = [];
  for (const c of el.children) {
    const n = localName(c.name);
    if (n === 'UpdateIdentity') out.push({ kind: 'update', updateId: guid(c.attrs.UpdateID) });
    else if (n === 'AtLeastOne') {
      out.push({
        kind: 'atLeastOne',
        isCategory: bool(c.attrs.IsCategory),
        updateIds: childrenNamed(c, 'UpdateIdentity').map((u) => guid(u.attrs.UpdateID)),
      });
    }
  }
  return out;
}

function bundledRef(el: XmlElement): BundledRef {
  const rev = el.attrs.RevisionNumber;
  return rev === undefined ? { updateId: guid(el.attrs.UpdateID) } : { updateId: guid(el.attrs.UpdateID), revisionNumber: Number(rev) };
}

function parseBundled(el: XmlElement | undefined): BundleGroup[] {
  if (!el) return [];
  const out: BundleGroup[] = [];
  for (const c of el.children) {
    const n = localName(c.name);
    if (n === 'UpdateIdentity') out.push({ kind: 'update', child: bundledRef(c) });
    else if (n === 'AtLeastOne') out.push({ kind: 'atLeastOne', children: childrenNamed(c, 'UpdateIdentity').map(bundledRef) });
  }
  return out;
}

/** Reduces a Metadata blob to the identity its rules evaluate against (reference §3.5–§3.8). */
function parseMetadata(el: XmlElement | undefined): RuleMetadata | undefined {
  const blob = el?.children[0];
  if (!blob) return undefined;
  const element = localName(blob.name);
  const find = (root: XmlElement, local: string): XmlElement | undefined => {
    if (localName(root.name) === local) return root;
    for (const c of root.children) {
      const f = find(c, local);
      if (f) return f;
    }
    return undefined;
  };
  switch (element) {
    case 'CbsPackageApplicabilityMetadata': {
      const id = find(blob, 'assemblyIdentity');
      const a = id?.attrs ?? {};
      const lang = a.language === 'neutral' ? '' : (a.language ?? '');
      // CBS identity string: name~publicKeyToken~architecture~language~version
      const identity = id ? `${a.name ?? ''}~${a.publicKeyToken ?? ''}~${a.processorArchitecture ?? ''}~${lang}~${a.version ?? ''}` : '';
      const pkg = find(blob, 'package');
      return { element, attrs: { ...a, identity, ...(pkg?.attrs.identifier ? { packageIdentifier: pkg.attrs.identifier } : {}) } };
    }
    case 'MsiPatchMetadata': {
      const patch = find(blob, 'MsiPatch');
      const fallback = find(blob, 'FallbackPatchCode');
      const code = patch?.attrs.PatchCode ?? fallback?.text ?? '';
      return { element, attrs: { PatchCode: code, ...(patch?.attrs ?? {}) } };
    }
    case 'MsiApplicationMetadata':
      return { element, attrs: { ProductCode: find(blob, 'ProductCode')?.text ?? blob.attrs.ProductCode ?? '' } };
    case 'AppxPackageMetadata':
      return { element, attrs: { ...(find(blob, 'AppxMetadata')?.attrs ?? {}) } };
    default:
      return { element, attrs: { ...blob.attrs } };
  }
}

export interface ParsedCore extends CoreFragment {
  readonly source: string;
}

/**
 * Parses one core fragment. Several concatenated fragments (as MS-WUSP sends them) are split on each
 * `UpdateIdentity`; {@link parseCoreFragments} returns them all, this returns the only one.
 */
export function parseCoreFragment(xml: string, source: string, limits?: XmlLimits): ParsedCore {
  const all = parseCoreFragments(xml, source, limits);
  if (all.length !== 1) throw badFormat(source, `expected one core fragment, found ${all.length}`);
  return all[0]!;
}

export function parseCoreFragments(xml: string, source: string, limits?: XmlLimits): ParsedCore[] {
  let els: readonly XmlElement[] = fragmentElements(xml, source, limits);
  // Unwrap documents that already carry a wrapper (`<Core>…</Core>`, `<Updates>…</Updates>`, `<upd:Update>`).
  for (let depth = 0; depth < 3 && els.length === 1 && !els.some((e) => localName(e.name) === 'UpdateIdentity'); depth++) {
    els = els[0]!.children;
  }
  const groups: XmlElement[][] = [];
  for (const el of els) {
    if (localName(el.name) === 'UpdateIdentity' || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(el);
  }
  return groups.map((g, i) => coreFromElements(g, groups.length > 1 ? `${source}#${i + 1}` : source));
}

function coreFromElements(els: XmlElement[], source: string): ParsedCore {
  const by = (n: string): XmlElement | undefined => els.find((e) => localName(e.name) === n);
  const identity = by('UpdateIdentity');
  if (!identity) throw badFormat(source, 'core fragment has no UpdateIdentity');
  const updateId = guid(identity.attrs.UpdateID);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(updateId)) {
    throw badFormat(source, `UpdateIdentity has no valid UpdateID (${JSON.stringify(identity.attrs.UpdateID ?? null)})`);
  }
  const revText = identity.attrs.RevisionNumber;
  if (revText === undefined || !/^\d+$/.test(revText)) {
    throw badFormat(source, `UpdateIdentity ${updateId} has no valid RevisionNumber (${JSON.stringify(revText ?? null)})`);
  }
  const props = by('Properties');
  const typeText = props?.attrs.UpdateType ?? 'Software';
  if (!(UPDATE_TYPES as readonly string[]).includes(typeText)) {
    throw badFormat(source, `update ${updateId} has unknown UpdateType "${typeText}"`);
  }
  const rel = by('Relationships');
  const rulesEl = by('ApplicabilityRules');
  const rules: Partial<Record<RuleSlot, RuleNode>> = {};
  let metadata: RuleMetadata | undefined;
  if (rulesEl) {
    metadata = parseMetadata(child(rulesEl, 'Metadata'));
    for (const slot of ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const) {
      const s = child(rulesEl, slot);
      if (!s) continue;
      // Each slot holds exactly one expression (reference §0.9); more or none is itself a rule error.
      if (s.children.length === 1) rules[slot] = parseRule(s.children[0]!);
      else
        rules[slot] = {
          kind: 'unsupported',
          element: slot,
          attrs: {},
          reason: `${slot} must hold exactly one expression, found ${s.children.length}`,
        };
    }
  }
  return {
    source,
    updateId,
    revisionNumber: Number(revText),
    updateType: typeText as UpdateType,
    explicitlyDeployable: bool(props?.attrs.ExplicitlyDeployable),
    prerequisites: parsePrerequisites(rel && child(rel, 'Prerequisites')),
    bundledUpdates: parseBundled(rel && child(rel, 'BundledUpdates')),
    supersedes: (rel && child(rel, 'SupersededUpdates') ? childrenNamed(child(rel, 'SupersededUpdates')!, 'UpdateIdentity') : []).map((u) =>
      guid(u.attrs.UpdateID),
    ),
    rules,
    ...(metadata ? { metadata } : {}),
  };
}

/** Parses an extended fragment `x/<RevisionId>`. */
export function parseExtendedFragment(xml: string, source: string, limits?: XmlLimits): ExtendedFragment {
  let els: readonly XmlElement[] = fragmentElements(xml, source, limits);
  if (els.length === 1 && els[0] && localName(els[0].name) !== 'ExtendedProperties') els = els[0].children;
  const props = els.find((e) => localName(e.name) === 'ExtendedProperties');
  if (!props) throw badFormat(source, 'extended fragment has no ExtendedProperties');
  const text = (n: string): string | undefined => child(props, n)?.text || undefined;
  const sev = props.attrs.MsrcSeverity ?? '';
  const severity: Severity = (SEVERITIES as readonly string[]).includes(sev) ? (sev as Severity) : '';
  const hsd = els.find((e) => localName(e.name) === 'HandlerSpecificData');
  const catInfo = hsd && child(hsd, 'CategoryInformation');
  const catType = catInfo?.attrs.CategoryType;
  const kb = text('KBArticleID');
  const bulletin = text('SecurityBulletinID');
  const handler = props.attrs.Handler;
  const supportUrl = text('SupportUrl');
  return {
    ...(kb ? { kb } : {}),
    severity,
    ...(bulletin ? { securityBulletin: bulletin } : {}),
    cves: childrenNamed(props, 'CveID')
      .map((c) => c.text)
      .filter((c) => c.length > 0),
    ...(handler ? { handler } : {}),
    ...(supportUrl ? { supportUrl } : {}),
    ...(catType && (CATEGORY_TYPES as readonly string[]).includes(catType) ? { categoryType: catType as CategoryType } : {}),
  };
}

/** Parses a localized-properties fragment `l/<lang>/<RevisionId>`. */
export function parseLocalizedFragment(xml: string, source: string, limits?: XmlLimits): LocalizedText {
  let els: readonly XmlElement[] = fragmentElements(xml, source, limits);
  const lp = els.find((e) => localName(e.name) === 'LocalizedProperties');
  if (lp) els = lp.children;
  const text = (n: string): string | undefined => els.find((e) => localName(e.name) === n)?.text || undefined;
  const language = text('Language');
  const title = text('Title');
  if (!language || title === undefined) throw badFormat(source, 'localized fragment needs Language and Title');
  const description = text('Description');
  const moreInfoUrl = text('MoreInfoUrl');
  return { language, title, ...(description ? { description } : {}), ...(moreInfoUrl ? { moreInfoUrl } : {}) };
}
