/**
 * Hostile XML, one case per row, for both XML paths (fragments/index.xml through the document parser, package.xml
 * through the streaming parser): every one is refused with XML_MALFORMED and a message naming the limit or the
 * problem — never expanded, never a crash, never a stack overflow. Limits are configurable (XmlLimits).
 */
import { describe, expect, it } from 'vitest';
import { decodeUtf8, DEFAULT_XML_LIMITS, invalidUtf8At, parseXml } from '../../adapters/xml/dom.js';
import { parseCoreFragment } from '../../adapters/xml/fragments.js';
import { PackageXmlParser } from '../../adapters/xml/package-xml.js';

const PKG = (inner: string): string =>
  `<?xml version="1.0" encoding="utf-8"?><OfflineSyncPackage ` +
  `xmlns="http://schemas.microsoft.com/msus/2004/02/OfflineSync" PackageId="p" ` +
  `CreationDate="2024-01-01T00:00:00Z"><Updates>${inner}` +
  `</Updates></OfflineSyncPackage>`;
const deep = (n: number): string => `${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`;

function streamed(xml: string | Uint8Array, limits = DEFAULT_XML_LIMITS): void {
  const p = new PackageXmlParser('package.xml', { onUpdate: () => undefined }, limits);
  const bytes = typeof xml === 'string' ? Buffer.from(xml) : xml;
  for (let i = 0; i < bytes.length; i += 7) p.write(bytes.subarray(i, i + 7)); // split anywhere, even inside a character
  p.end();
}

const CASES: [string, string, RegExp][] = [
  [
    'billion laughs',
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><x>&lol2;</x>',
    /DTDs? (and entity declarations )?are refused/,
  ],
  [
    'external entity',
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    /DTDs? (and entity declarations )?are refused/,
  ],
  [
    'parameter entity',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]><x/>',
    /DTDs? (and entity declarations )?are refused/,
  ],
  ['undefined entity', '<x>&lol;</x>', /undefined entity/],
  ['a million nested elements', deep(1_000_000), /nest deeper than 256 levels \(maxDepth\)/],
  ['a 20 MB attribute', `<x a="${'y'.repeat(20_000_000)}"/>`, /more than 1048576 \(maxAttributeChars\)/],
  ['duplicate attributes', '<x a="1" a="2"/>', /(repeated|duplicate attribute)/],
  ['a 20 MB text node', `<x>${'t'.repeat(20_000_000)}</x>`, /more than 8388608 \(maxTextChars\)/],
];

describe('hostile XML through the document parser (fragments, index.xml)', () => {
  it.each(CASES)('%s → XML_MALFORMED', (_name, xml, message) => {
    expect(() => parseXml(xml, 'doc.xml')).toThrow(
      expect.objectContaining({ code: 'XML_MALFORMED', message: expect.stringMatching(message) }),
    );
  });
  it('a fragment with any of them is refused the same way', () => {
    expect(() => parseCoreFragment(`<UpdateIdentity UpdateID="x" RevisionNumber="1"/>${deep(5000)}`, 'c/1')).toThrow(
      /c\/1:1:\d+: elements nest deeper than 256 levels/,
    );
  });
  it('invalid UTF-8 is refused with its offset, not replaced', () => {
    expect(() => decodeUtf8(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), 'c/7')).toThrow(
      /^c\/7: not valid UTF-8 \(byte offset 3\)$/,
    );
    expect(decodeUtf8(Buffer.from('<a>é</a>'), 'ok')).toBe('<a>é</a>');
    // The offset finder agrees with the platform's decoder on random bytes.
    for (let k = 0; k < 2000; k++) {
      const b = Uint8Array.from({ length: 1 + (k % 9) }, (_, i) => (k * 7919 + i * 104729) % 256);
      let fatal = false;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b);
      } catch {
        fatal = true;
      }
      expect(invalidUtf8At(b) >= 0, Buffer.from(b).toString('hex')).toBe(fatal);
    }
  });
  it('limits are configurable', () => {
    expect(() => parseXml(deep(10), 'doc.xml', { ...DEFAULT_XML_LIMITS, maxDepth: 5 })).toThrow(/nest deeper than 5 levels/);
    expect(parseXml(deep(10), 'doc.xml', { ...DEFAULT_XML_LIMITS, maxDepth: 50 })).toHaveLength(1);
    expect(() => parseXml('<x a="123456"/>', 'doc.xml', { ...DEFAULT_XML_LIMITS, maxAttributeChars: 5 })).toThrow(
      /more than 5 \(maxAttributeChars\)/,
    );
    expect(() => parseXml('<x/>', 'doc.xml', { ...DEFAULT_XML_LIMITS, maxChars: 3 })).toThrow(/exceeds the limit of 3 \(maxChars\)/);
    expect(() => parseXml('<x>123456</x>', 'doc.xml', { ...DEFAULT_XML_LIMITS, maxTextChars: 5 })).toThrow(/more than 5 \(maxTextChars\)/);
  });
  it('a DTD or a bare & inside a CDATA section or a comment is text, not markup (a localized EULA may hold one)', () => {
    const [x] = parseXml('<x><![CDATA[<!DOCTYPE html><p>R&D</p>]]><!-- <!ENTITY e "no"> & --></x>', 'l/en/1');
    expect(x.text).toBe('<!DOCTYPE html><p>R&D</p>');
    // Outside them, still refused, wherever it stands.
    expect(() => parseXml('<x><![CDATA[a]]></x><!DOCTYPE y>', 'doc.xml')).toThrow(/DTDs? (and entity declarations )?are refused/);
    expect(() => parseXml('<x><!-- a -->&lol;</x>', 'doc.xml')).toThrow(/undefined entity/);
    expect(() => parseXml('<x><![CDATA[<!DOCTYPE', 'doc.xml')).toThrow(expect.objectContaining({ code: 'XML_MALFORMED' }));
  });
  it('a > inside an attribute value does not confuse the depth check', () => {
    const wql = '<r q="SELECT * FROM x WHERE v > 5"/>'.repeat(1000);
    expect(parseXml(`<x>${wql}</x>`, 'doc.xml')[0].children).toHaveLength(1000);
  });
});

describe('hostile XML through the streaming package.xml parser', () => {
  it.each(CASES.filter(([n]) => n !== 'undefined entity'))('%s → XML_MALFORMED', (name, xml, message) => {
    const doc = name.includes('DOCTYPE') || xml.startsWith('<?xml') || xml.startsWith('<!DOCTYPE') ? xml : PKG(xml);
    expect(() => streamed(doc)).toThrow(expect.objectContaining({ code: 'XML_MALFORMED', message: expect.stringMatching(message) }));
  });
  it('an undefined entity is refused by saxes itself', () => {
    expect(() => streamed(PKG('<x>&lol;</x>'))).toThrow(expect.objectContaining({ code: 'XML_MALFORMED' }));
  });
  it('invalid UTF-8 is refused, even split across chunks; valid multi-byte text split anywhere is fine', () => {
    const [head, tail] = PKG('<x>SPLIT</x>').split('SPLIT');
    const bad = Buffer.concat([Buffer.from(head), Buffer.from([0xe2, 0x82]), Buffer.from(tail)]);
    expect(() => streamed(bad)).toThrow(/^package\.xml: not valid UTF-8/);
    expect(() => streamed(PKG('<x a="€€€ ünïcödé"/>'))).not.toThrow();
  });
});
