/** The console's OS column: an inventory's version numbers and product type, named as administrators name them. */
import { describe, expect, it } from 'vitest';
import { osName } from '../../adapters/site/os-name.js';

const CASES: readonly [string, Parameters<typeof osName>[0], string | null][] = [
  ['no OS section', undefined, null],
  ['Windows 10 22H2 with its UBR', { major: 10, minor: 0, build: 19045, ubr: 3803, productType: 1 }, 'Windows 10 22H2 (10.0.19045.3803)'],
  ['Windows 10 1607 workstation', { major: 10, minor: 0, build: 14393, ubr: 6529, productType: 1 }, 'Windows 10 1607 (10.0.14393.6529)'],
  [
    'Server 2016: the build of 1607, a server',
    { major: 10, minor: 0, build: 14393, ubr: 6529, productType: 3 },
    'Windows Server 2016 (10.0.14393.6529)',
  ],
  ['Server 2019 domain controller', { major: 10, minor: 0, build: 17763, productType: 2 }, 'Windows Server 2019 (10.0.17763)'],
  ['Windows 11 23H2', { major: 10, minor: 0, build: 22631, ubr: 2861, productType: 1 }, 'Windows 11 23H2 (10.0.22631.2861)'],
  ['Windows 11 build the table does not know', { major: 10, minor: 0, build: 27000, productType: 1 }, 'Windows 11 (10.0.27000)'],
  ['Windows 10 insider build the table does not know', { major: 10, minor: 0, build: 19999, productType: 1 }, 'Windows 10 (10.0.19999)'],
  ['Server 2025', { major: 10, minor: 0, build: 26100, productType: 3 }, 'Windows Server 2025 (10.0.26100)'],
  ['Windows 7 SP1', { major: 6, minor: 1, build: 7601, spMajor: 1, productType: 1 }, 'Windows 7 SP1 (6.1.7601)'],
  ['Server 2008 R2 SP1', { major: 6, minor: 1, build: 7601, spMajor: 1, productType: 3 }, 'Windows Server 2008 R2 SP1 (6.1.7601)'],
  ['Windows 8.1', { major: 6, minor: 3, build: 9600, productType: 1 }, 'Windows 8.1 (6.3.9600)'],
  ['Server 2012 R2', { major: 6, minor: 3, build: 9600, productType: 3 }, 'Windows Server 2012 R2 (6.3.9600)'],
  ['Windows XP SP3', { major: 5, minor: 1, build: 2600, spMajor: 3, productType: 1 }, 'Windows XP SP3 (5.1.2600)'],
  ['Server 2003', { major: 5, minor: 2, build: 3790, spMajor: 2, productType: 3 }, 'Windows Server 2003 SP2 (5.2.3790)'],
  ['a version no table knows', { major: 4, minor: 0, build: 1381, productType: 1 }, 'Windows (4.0.1381)'],
];

describe('osName', () => {
  it.each(CASES)('%s', (_what, os, want) => {
    expect(osName(os)).toBe(want);
  });
});
