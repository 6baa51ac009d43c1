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
  /** Longest attribute value accepted, in characters. */
  readonly maxAttributeChars: number;
  /** Longest run of text inside one element accepted, in characters. */
  readonly maxTextChars: number;
}

/** Real fragments reach ~47 MB (CBS core fragments); attributes stay short (a GUID, a path, a WQL query). */
export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxChars: 64 * 1024 * 1024,
  maxDepth: 256,
  maxAttributeChars: 1024 * 1024,
  maxTextChars: 8 * 1024 * 1024,
};

/** Offset of the first byte that does not begin or continue a valid UTF-8 sequence, or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    const need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= b.length) return i; // a bad lead byte, or a sequence cut off at the end
    for (let k = 1; k <= need; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    const c1 = b[i + 1]!;
    // Overlong three/four-byte forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

/** Decodes bytes as UTF-8, refusing invalid sequences instead of replacing them (a damaged file must not parse). */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    throw new PatchscanError('XML_MALFORMED', `${source}: not valid UTF-8 (byte offset ${at})`, { file: source, offset: at });
  }
}

/**
 * Nesting depth by a linear scan of the markup (before any recursive parser sees it: a million nested elements must
 * be refused, not overflow the stack). Offsets past the limit are reported.
 */
function depthBeyond(xml: string, maxDepth: number): number {
  let depth = 0;
  const n = xml.length;
  for (let i = xml.indexOf('<'); i !== -1 && i < n; i = xml.indexOf('<', i + 1)) {
    const c = xml.charCodeAt(i + 1);
    if (c === 47 /* / */) {
      depth--;
      continue;
    }
    if (c === 33 /* ! */ || c === 63 /* ? */) {
      // Comments, CDATA, declarations: skip to their end so that a '<' inside them is not taken for a tag.
      const close = xml.startsWith('<!--', i)
        ? xml.indexOf('-->', i + 4)
        : xml.startsWith('<![CDATA[', i)
          ? xml.indexOf(']]>', i + 9)
          : xml.indexOf('>', i);
      if (close === -1) return -1; // unterminated: the validator reports it
      i = close;
      continue;
    }
    // A start tag: find its '>' outside attribute quotes ('>' is allowed inside a quoted value).
    let quote = 0;
    let j = i + 1;
    for (; j < n; j++) {
      const ch = xml.charCodeAt(j);
      if (quote !== 0) {
        if (ch === quote) quote = 0;
      } else if (ch === 34 || ch === 39) quote = ch;
      else if (ch === 62 /* > */) break;
    }
    if (j >= n) return -1;
    if (xml.charCodeAt(j - 1) !== 47 /* not <empty/> */ && ++depth > maxDepth) return i;
    i = j;
  }
  return -1;
}

/**
 * `xml` with the text inside its comments and CDATA sections blanked to spaces (same length, so offsets still point
 * into `xml`); `xml` itself when it has neither. An unterminated one is blanked to the end (the validator refuses it).
 */
function blankCommentsAndCdata(xml: string): string {
  if (!xml.includes('<!--') && !xml.includes('<![CDATA[')) return xml;
  const parts: string[] = [];
  let from = 0;
  const opener = /<!--|<!\[CDATA\[/g;
  for (let m = opener.exec(xml); m !== null; m = opener.exec(xml)) {
    const body = m.index + m[0].length;
    const end = xml.indexOf(m[0] === '<!--' ? '-->' : ']]>', body);
    const stop = end === -1 ? xml.length : end;
    parts.push(xml.slice(from, body), ' '.repeat(stop - body));
    from = stop;
    opener.lastIndex = end === -1 ? xml.length : end + 3;
  }
  parts.push(xml.slice(from));
  return parts.join('');
}

/** An `&` that does not start one of XML's five entities or a character reference: undefined (we declare none). */
const UNDEFINED_ENTITY = /&(?!(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});)/;

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
  // Markup only: a CDATA section or a comment may hold "<!DOCTYPE" or a bare "&" as text (a localized EULA does),
  // which declares nothing and expands nothing.
  const markup = blankCommentsAndCdata(xml);
  const dtd = markup.search(/<!DOCTYPE|<!ENTITY/i);
  if (dtd >= 0) {
    const p = position(xml, dtd);
    throw malformed(source, 'DTDs and entity declarations are refused (no entity expansion)', p.line, p.col);
  }
  const deep = depthBeyond(xml, limits.maxDepth);
  if (deep >= 0) {
    const p = position(xml, deep);
    throw malformed(source, `elements nest deeper than ${limits.maxDepth} levels (maxDepth)`, p.line, p.col);
  }
  const amp = markup.search(UNDEFINED_ENTITY);
  if (amp >= 0) {
    const p = position(xml, amp);
    throw malformed(
      source,
      'reference to an undefined entity (only &lt; &gt; &amp; &quot; &apos; and character references exist)',
      p.line,
      p.col,
    );
  }
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) throw malformed(source, valid.err.msg, valid.err.line, valid.err.col);
  let raw: RawNode[];
  try {
    raw = parser.parse(xml) as RawNode[];
  } catch (e) {
    // The validator passed something the parser still refuses (found by fuzzing: an unterminated <?xml …?>).
    throw malformed(source, (e as Error).message);
  }
  return convert(raw, source, limits, 0);
}

function convert(nodes: RawNode[], source: string, limits: XmlLimits, depth: number): XmlElement[] {
  const maxDepth = limits.maxDepth;
  if (depth > maxDepth) throw malformed(source, `elements nest deeper than ${maxDepth} levels (maxDepth)`);
  const out: XmlElement[] = [];
  for (const node of nodes) {
    for (const key of Object.keys(node)) {
      if (key === ':@' || key === '#text' || key === '#comment') continue;
      const kids = (node[key] as RawNode[] | undefined) ?? [];
      let text = '';
      for (const k of kids) if (typeof k['#text'] === 'string' || typeof k['#text'] === 'number') text += String(k['#text']);
      if (text.length > limits.maxTextChars)
        throw malformed(source, `text inside <${key}> is ${text.length} characters long, more than ${limits.maxTextChars} (maxTextChars)`);
      const attrs = node[':@'] ?? {};
      for (const [name, value] of Object.entries(attrs)) {
        if (value.length > limits.maxAttributeChars)
          throw malformed(
            source,
            `attribute ${name} of <${key}> is ${value.length} characters long, more than ${limits.maxAttributeChars} (maxAttributeChars)`,
          );
      }
      out.push({ name: key, attrs, children: convert(kids, source, limits, depth + 1), text: text.trim() });
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
