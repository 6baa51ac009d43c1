/**
 * Small XML documents (fragments, index.xml) parsed with fast-xml-parser into a minimal ordered DOM.
 *
 * Security: DTDs are refused before parsing, so no entity can be declared, expanded or fetched (no billion
 * laughs, no external entities); only the five predefined entities and character references are decoded.
 * Well-formedness is checked first so that an error names the line and column.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PatchscanError } from '../../engine/errors.js';

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated text content directly inside this element (trimmed). */
  readonly text: string;
}

export interface XmlLimits {
  /** Largest document accepted, in characters. */
  readonly maxChars: number;
  /** Deepest element nesting accepted. */
  readonly maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 64 * 1024 * 1024, maxDepth: 256 };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  // Attribute values are data (a WQL query may end in a space): keep them exactly; text is trimmed below.
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function malformed(source: string, message: string, line?: number, col?: number): PatchscanError {
  const where = line !== undefined ? `:${line}:${col ?? 0}` : '';
  return new PatchscanError('XML_MALFORMED', `${source}${where}: ${message}`, { file: source, line, column: col });
}

/** Position (1-based line and column) of a character offset. */
function position(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, col: offset - last };
}

/**
 * Parses `xml` (a whole document, or a fragment wrapped by the caller) and returns its root elements.
 * Throws `XML_MALFORMED` naming `source`, line and column.
 */
export function parseXml(xml: string, source: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement[] {
  if (xml.length > limits.maxChars) {
    throw malformed(source, `document of ${xml.length} characters exceeds the limit of ${limits.maxChars} (maxChars)`);
  }
  const dtd = xml.search(/<!DOCTYPE|<!ENTITY/i);
  if (dtd >= 0) {
    const p = position(xml, dtd);
    throw malformed(source, 'DTDs and entity declarations are refused (no entity expansion)', p.line, p.col);
  }
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) throw malformed(source, valid.err.msg, valid.err.line, valid.err.col);
  const raw = parser.parse(xml) as RawNode[];
  return convert(raw, source, limits.maxDepth, 0);
}

function convert(nodes: RawNode[], source: string, maxDepth: number, depth: number): XmlElement[] {
  if (depth > maxDepth) throw malformed(source, `elements nest deeper than ${maxDepth} levels (maxDepth)`);
  const out: XmlElement[] = [];
  for (const node of nodes) {
    for (const key of Object.keys(node)) {
      if (key === ':@' || key === '#text' || key === '#comment') continue;
      const kids = (node[key] as RawNode[] | undefined) ?? [];
      let text = '';
      for (const k of kids) if (typeof k['#text'] === 'string' || typeof k['#text'] === 'number') text += String(k['#text']);
      out.push({ name: key, attrs: node[':@'] ?? {}, children: convert(kids, source, maxDepth, depth + 1), text: text.trim() });
    }
  }
  return out;
}

/** The local part of a (possibly prefixed) name: `upd:Update` → `Update`. */
export function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

export function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => localName(c.name) === local);
}

export function childrenNamed(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => localName(c.name) === local);
}
