/**
 * Microsoft's classification names by GUID (engine/catalog/classifications.ts): what a report shows for a
 * classification the catalog does not carry, and how a SCUP package's words become a GUID.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSIFICATION_IDS, classificationId, classificationName } from '../../engine/catalog/classifications.js';
import { parseSoftwareDistributionPackage } from '../../adapters/xml/sdp.js';
import { FIXTURES } from '../helpers/tmp.js';

describe('classification names', () => {
  it.each([
    ['cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83', 'Updates'],
    ['0FA1201D-4330-4FA8-8AE9-B877473B6441', 'Security Updates'], // the page lists them in upper case
    ['e0789628-ce08-4437-be74-2495b842f43b', 'Definition Updates'],
    ['b54e7d24-7add-428f-8b75-90a396fa584f', 'Feature Packs'],
  ])('%s is %s', (id, name) => {
    expect(classificationName(id)).toBe(name);
    expect(classificationId(name)).toBe(id.toLowerCase());
  });

  it('names nothing it does not list: a product GUID, a made-up name, an Object property', () => {
    expect(classificationName('6407468e-edc7-4ecd-8c32-521f64cee65e')).toBeUndefined(); // a product (Windows 8.1)
    expect(classificationName('')).toBeUndefined();
    expect(classificationId('Security updates')).toBeUndefined(); // WSUS's words, exactly
    expect(classificationId('constructor')).toBeUndefined();
    expect(classificationId('__proto__')).toBeUndefined();
  });

  it('is one to one: twelve names, twelve GUIDs, each the other way round', () => {
    const entries = Object.entries(CLASSIFICATION_IDS);
    expect(entries).toHaveLength(12);
    expect(new Set(entries.map(([, id]) => id)).size).toBe(12);
    for (const [name, id] of entries) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(classificationName(id)).toBe(name);
    }
  });

  it('a SCUP package names its classification in words: compiled as its GUID; an unknown word is kept as given', () => {
    // HP's real package (test/fixtures/fragments), its classification changed.
    const hp = readFileSync(join(FIXTURES, 'fragments', 'example-HP-sdp-00004850-0000-0000-5350-000000094728.sdp.xml'), 'utf8');
    const pkg = (cls: string): string => hp.replace('UpdateClassification="Updates"', `UpdateClassification="${cls}"`);
    expect(pkg('Tools')).not.toBe(hp);
    expect(parseSoftwareDistributionPackage(pkg('Tools'), 't.xml').categories).toEqual([
      { type: 'UpdateClassification', id: 'b4832bd8-e735-4761-8daf-37f882276dab' },
    ]);
    expect(parseSoftwareDistributionPackage(pkg('toString'), 't.xml').categories).toEqual([
      { type: 'UpdateClassification', id: 'toString' },
    ]);
  });
});
