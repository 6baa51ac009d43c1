/**
 * Found by a red-team pass (2026-11-30), each a definite answer where the reference evaluator
 * (test/reference/reference-evaluator.ts) gives another, on inventories the validator accepts. Every case runs the
 * one-off scan and the fleet path (shared rule values) against the reference.
 *
 * - A registry fact asking for the native view, read inside a RegKeyLoop over the 32-bit view and outside it: inside,
 *   it reads the loop's view; the machine's value of the fact was kept per fact number, so whichever was read first
 *   answered both (the numbered FileVersionPrependRegSz too).
 * - A RegKeyLoop over a key the inventory lists with a trailing backslash: the subkeys' paths had an empty step, and
 *   every listed subkey read as absent.
 * - A CBS package whose inventory identity states no version: the index by name and version never offered it to a rule
 *   that names a version, though the identities match part by part.
 */
import { describe, expect, it } from 'vitest';
import { cbsIdentityMatches, Machine } from '../../engine/inventory/machine.js';
import { validateInventory } from '../../engine/inventory/validate.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { compile, fleetStates, inv, key, leaf, oneOffStates, rec, refStates } from '../helpers/scan-paths.js';

const other = { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Other', Value: 'X' };
const loop32 = (child: ReturnType<typeof leaf>) =>
  leaf('RegKeyLoop', { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Apps', RegType32: 'true', TrueIf: 'Any' }, child);

const viewMachine = inv({
  processor: { architecture: 9 },
  registry: [
    key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps', { view: '32', subkeys: ['A'], values: [] }),
    key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps\\A', { view: '32', values: [] }),
    key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Other', { values: [{ name: 'X', type: 'REG_DWORD', data: 1 }] }),
    key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Other', { view: '32', values: [] }),
  ],
});

describe('non-loop-relative registry fact read inside a 32-bit RegKeyLoop and outside it', () => {
  for (const order of ['loop first', 'outside first'] as const) {
    it(`RegValueExists, ${order}`, () => {
      const inside = rec(order === 'loop first' ? 0 : 1, { IsInstalled: loop32(leaf('RegValueExists', other)) });
      const outside = rec(order === 'loop first' ? 1 : 0, { IsInstalled: leaf('RegValueExists', other) });
      const records = order === 'loop first' ? [inside, outside] : [outside, inside];
      const c = compile(records);
      const ref = refStates(records, viewMachine);
      expect(oneOffStates(c, viewMachine), 'one-off scan vs reference').toEqual(ref);
      expect(fleetStates(new Scanner(c), viewMachine), 'fleet scan vs reference').toEqual(ref);
    });
    it(`FileVersionPrependRegSz (numbered), ${order}`, () => {
      const r = { ...other, Path: 'b.exe', Comparison: 'GreaterThanOrEqualTo', Version: '1.0' };
      const inside = rec(order === 'loop first' ? 0 : 1, { IsInstalled: loop32(leaf('FileVersionPrependRegSz', r)) });
      const outside = rec(order === 'loop first' ? 1 : 0, { IsInstalled: leaf('FileVersionPrependRegSz', r) });
      const records = order === 'loop first' ? [inside, outside] : [outside, inside];
      const m = inv({
        processor: { architecture: 9 },
        registry: [
          key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps', { view: '32', subkeys: ['A'], values: [] }),
          key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Apps\\A', { view: '32', values: [] }),
          key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Other', { values: [{ name: 'X', type: 'REG_SZ', data: 'C:\\Native' }] }),
          key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Other', { view: '32', values: [{ name: 'X', type: 'REG_SZ', data: 'C:\\Wow' }] }),
        ],
        files: [
          { path: 'C:\\Native\\b.exe', exists: true, version: '2.0' },
          { path: 'C:\\Wow\\b.exe', exists: true, version: '0.5' },
        ],
      });
      const c = compile(records);
      const ref = refStates(records, m);
      expect(oneOffStates(c, m), 'one-off scan vs reference').toEqual(ref);
      expect(fleetStates(new Scanner(c), m), 'fleet scan vs reference').toEqual(ref);
    });
  }
});

const anySubkey = leaf(
  'RegKeyLoop',
  { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\Contoso', TrueIf: 'Any' },
  leaf('RegDword', { Key: 'HKEY_LOOP_TARGET', Subkey: '', Value: 'Level', Comparison: 'EqualTo', Data: '1' }),
);
const loopRecords = [rec(0, { IsInstalled: anySubkey })];
const listedWith = (trailing: string) =>
  inv({
    processor: { architecture: 9 },
    registry: [
      key(`HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso${trailing}`, { subkeys: ['Sub'] }),
      key('HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\Sub', { values: [{ name: 'Level', type: 'REG_DWORD', data: 1 }] }),
    ],
  });

describe('RegKeyLoop over a key listed with a trailing backslash', () => {
  it.each(['', '\\'])('key suffix %j: engine agrees with the reference (Installed)', (trailing) => {
    const c = compile(loopRecords);
    const m = listedWith(trailing);
    expect(refStates(loopRecords, m)).toEqual({ [c.updateId(0)]: 'Installed' });
    expect(oneOffStates(c, m)).toEqual(refStates(loopRecords, m));
    expect(fleetStates(new Scanner(c), m)).toEqual(refStates(loopRecords, m));
  });
});

const WANT = 'Package_A~31bf3856ad364e35~amd64~~10.0.1.1';
const HAVE = 'Package_A~31bf3856ad364e35~amd64';

describe('CBS identity without a version part in the inventory', () => {
  it('the index agrees with cbsIdentityMatches and the reference', () => {
    const m = inv({ cbs: { packages: [{ identity: HAVE, state: 'Installed' }] } });
    expect(() => validateInventory(m)).not.toThrow();
    expect(cbsIdentityMatches(WANT, HAVE)).toBe(true);
    expect.soft(new Machine(m).cbsMatches(WANT)).toHaveLength(1);
    const records = [
      rec(0, { IsInstalled: { ...leaf('CbsPackageInstalledByIdentity', { PackageIdentity: WANT }), family: 'cbs' } as never }),
    ];
    const c = compile(records);
    expect(oneOffStates(c, m)).toEqual(refStates(records, m));
    expect(fleetStates(new Scanner(c), m)).toEqual(refStates(records, m));
  });
});

describe('CBS packages listed with and without a version, both matching', () => {
  // CbsPackageInstallable decides by the first matching package with a decisive state, in the inventory's order: the
  // versioned and unversioned index lists must give the matches in that order.
  const records = [
    rec(
      0,
      { IsInstallable: { ...leaf('CbsPackageInstallable', {}), family: 'cbs' } as never },
      { metadata: { element: 'CbsPackageApplicabilityMetadata', attrs: { identity: WANT } } },
    ),
  ];
  const unversioned = { identity: HAVE, state: 'Superseded' };
  const versioned = { identity: WANT, state: 'Installed' };
  it.each([
    ['unversioned first', [unversioned, versioned]],
    ['versioned first', [versioned, unversioned]],
  ] as const)('%s: the engine agrees with the reference', (_, packages) => {
    const m = inv({ cbs: { packages: [...packages] } });
    const c = compile(records);
    expect(oneOffStates(c, m)).toEqual(refStates(records, m));
    expect(fleetStates(new Scanner(c), m)).toEqual(refStates(records, m));
  });
});
