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
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function bool(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

/**
 * The one child of `parent` named `local`, or undefined; two or more are a damaged fragment (read as the first, the
 * second would be dropped without a word, and a definite answer could follow from half the relation).
 */
function onlyChild(parent: XmlElement, local: string, source: string): XmlElement | undefined {
  const all = childrenNamed(parent, local);
  if (all.length > 1) throw badFormat(source, `${localName(parent.name)} holds ${all.length} ${local} elements, where it may hold one`);
  return all[0];
}

/** The GUID of a relationship's UpdateIdentity; a missing or malformed one is a damaged fragment. */
function relatedId(el: XmlElement, where: string, source: string): string {
  const id = guid(el.attrs.UpdateID);
  if (!GUID.test(id))
    throw badFormat(source, `an UpdateIdentity in ${where} has no valid UpdateID (${JSON.stringify(el.attrs.UpdateID ?? null)})`);
  return id;
}

/**
 * The UpdateIdentity children of an AtLeastOne group: at least one, and nothing else (the schema's
 * `AtLeastOne/UpdateIdentity+`). An empty group could never hold, and an element of another kind is one this reader
 * does not know: either would make the update's state rest on a relation read wrong.
 */
function groupMembers(group: XmlElement, where: string, source: string): XmlElement[] {
  const members = group.children.filter((c) => localName(c.name) === 'UpdateIdentity');
  const other = group.children.find((c) => localName(c.name) !== 'UpdateIdentity');
  if (other) throw badFormat(source, `an AtLeastOne in ${where} holds <${localName(other.name)}>, where only UpdateIdentity may be`);
  if (members.length === 0) throw badFormat(source, `an AtLeastOne in ${where} lists no UpdateIdentity`);
  return members;
}

/** Refuses an element of a relationship list that is neither an UpdateIdentity nor an AtLeastOne group. */
function unknownRelation(el: XmlElement, where: string, source: string): never {
  throw badFormat(source, `${where} holds <${localName(el.name)}>, where only UpdateIdentity and AtLeastOne may be`);
}

function parsePrerequisites(el: XmlElement | undefined, source: string): Prerequisite[] {
  if (!el) return [];
  const out: Prerequisite[] = [];
  for (const c of el.children) {
    const n = localName(c.name);
    if (n === 'UpdateIdentity') out.push({ kind: 'update', updateId: relatedId(c, 'Prerequisites', source) });
    else if (n === 'AtLeastOne') {
      out.push({
        kind: 'atLeastOne',
        isCategory: bool(c.attrs.IsCategory),
        updateIds: groupMembers(c, 'Prerequisites', source).map((u) => relatedId(u, 'Prerequisites', source)),
      });
    } else unknownRelation(c, 'Prerequisites', source);
  }
  return out;
}

function bundledRef(el: XmlElement, source: string): BundledRef {
  const updateId = relatedId(el, 'BundledUpdates', source);
  const rev = el.attrs.RevisionNumber;
  if (rev === undefined) return { updateId };
  if (!/^\d+$/.test(rev)) throw badFormat(source, `bundled update ${updateId} has no valid RevisionNumber (${JSON.stringify(rev)})`);
  return { updateId, revisionNumber: Number(rev) };
}

function parseBundled(el: XmlElement | undefined, source: string): BundleGroup[] {
  if (!el) return [];
  const out: BundleGroup[] = [];
  for (const c of el.children) {
    const n = localName(c.name);
    if (n === 'UpdateIdentity') out.push({ kind: 'update', child: bundledRef(c, source) });
    else if (n === 'AtLeastOne')
      out.push({ kind: 'atLeastOne', children: groupMembers(c, 'BundledUpdates', source).map((u) => bundledRef(u, source)) });
    else unknownRelation(c, 'BundledUpdates', source);
  }
  return out;
}

function parseSuperseded(el: XmlElement | undefined, source: string): string[] {
  if (!el) return [];
  const other = el.children.find((c) => localName(c.name) !== 'UpdateIdentity');
  if (other) throw badFormat(source, `SupersededUpdates holds <${localName(other.name)}>, where only UpdateIdentity may be`);
  return el.children.map((c) => relatedId(c, 'SupersededUpdates', source));
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
  if (!GUID.test(updateId)) {
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
  for (const top of ['Properties', 'Relationships', 'ApplicabilityRules']) {
    const n = els.filter((e) => localName(e.name) === top).length;
    if (n > 1) throw badFormat(source, `update ${updateId} has ${n} ${top} elements, where it may have one`);
  }
  const rel = by('Relationships');
  const rulesEl = by('ApplicabilityRules');
  const rules: Partial<Record<RuleSlot, RuleNode>> = {};
  let metadata: RuleMetadata | undefined;
  if (rulesEl) {
    metadata = parseMetadata(onlyChild(rulesEl, 'Metadata', source));
    for (const slot of ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const) {
      const all = childrenNamed(rulesEl, slot);
      const s = all[0];
      if (!s) continue;
      // A slot given twice has no one expression to evaluate: Unknown, naming it (the first alone could answer True
      // where the second says False).
      if (all.length > 1)
        rules[slot] = {
          kind: 'unsupported',
          element: slot,
          attrs: {},
          reason: `${slot} is given ${all.length} times in ApplicabilityRules`,
        };
      // Each slot holds exactly one expression (reference §0.9); more or none is itself a rule error.
      else if (s.children.length === 1) rules[slot] = parseRule(s.children[0]!);
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
    prerequisites: parsePrerequisites(rel && onlyChild(rel, 'Prerequisites', source), source),
    bundledUpdates: parseBundled(rel && onlyChild(rel, 'BundledUpdates', source), source),
    supersedes: parseSuperseded(rel && onlyChild(rel, 'SupersededUpdates', source), source),
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
