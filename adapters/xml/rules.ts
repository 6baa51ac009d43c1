/**
 * Applicability rule elements → {@link RuleNode} trees (reference §3).
 *
 * Element names arrive in two spellings: fragment form (`b.FileVersion`, `m.MsiProductInstalled`, `d.…`,
 * unprefixed logical/CBS/newer rules) and namespaced form (`bar:FileVersion`, `lar:And`, `msiar:…`). Both map to
 * a family and a local name. Anything we do not know, or know but cannot evaluate as written (missing attribute,
 * wrong child count), becomes an `unsupported` node that keeps its name and attributes.
 */
import type { RuleFamily, RuleNode } from '../../engine/model.js';
import { ruleSpec } from '../../engine/rules/registry.js';
import { localName, type XmlElement } from './dom.js';

const PREFIX_FAMILY: Readonly<Record<string, RuleFamily | 'logical'>> = {
  b: 'base',
  bar: 'base',
  m: 'msi',
  mar: 'msi',
  msiar: 'msi',
  d: 'driver',
  drv: 'driver',
  lar: 'logical',
  cbsar: 'cbs',
  upd: 'update',
};

const LOGICAL = new Set(['And', 'Or', 'Not', 'True', 'False']);

/** Family and local name of a rule element; `undefined` family = unprefixed. */
export function classify(name: string): { family: RuleFamily | 'logical' | 'unknown' | undefined; local: string } {
  const dot = /^([a-z]+)\.(.+)$/.exec(name);
  if (dot) return { family: PREFIX_FAMILY[dot[1]!] ?? 'unknown', local: dot[2]! };
  const colon = name.indexOf(':');
  if (colon > 0) return { family: PREFIX_FAMILY[name.slice(0, colon)] ?? 'unknown', local: name.slice(colon + 1) };
  return { family: undefined, local: name };
}

function unsupported(el: XmlElement, reason: string): RuleNode {
  return { kind: 'unsupported', element: el.name, attrs: { ...el.attrs }, reason };
}

export function parseRule(el: XmlElement): RuleNode {
  const { family, local } = classify(el.name);
  if (LOGICAL.has(local) && (family === undefined || family === 'logical')) {
    switch (local) {
      case 'True':
        return { kind: 'const', value: true };
      case 'False':
        return { kind: 'const', value: false };
      case 'Not':
        if (el.children.length !== 1) return unsupported(el, `Not must hold exactly one expression, found ${el.children.length}`);
        return { kind: 'not', child: parseRule(el.children[0]!) };
      default:
        if (el.children.length === 0) return unsupported(el, `${local} must hold at least one expression`);
        return { kind: local === 'And' ? 'and' : 'or', children: el.children.map(parseRule) };
    }
  }
  const spec = ruleSpec(local);
  // Unprefixed names are CBS or newer Windows 10 rules; base/MSI/driver rules always carry their prefix.
  const familyOk =
    spec !== undefined && (family === spec.family || (family === undefined && (spec.family === 'cbs' || spec.family === 'update')));
  if (!spec || !familyOk) return unsupported(el, 'unknown rule element');
  const missing = spec.required.filter((a) => el.attrs[a] === undefined);
  if (missing.length > 0) return unsupported(el, `missing required attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const base = { kind: 'rule' as const, type: local, family: spec.family, attrs: { ...el.attrs } };
  if (spec.children === 'rule') {
    if (el.children.length !== 1) return unsupported(el, `${local} must hold exactly one expression, found ${el.children.length}`);
    return { ...base, child: parseRule(el.children[0]!) };
  }
  if (spec.children === 'items') {
    return {
      ...base,
      items: el.children.map((c) => ({ tag: localName(c.name), attrs: { ...c.attrs }, ...(c.text ? { text: c.text } : {}) })),
    };
  }
  return base;
}
