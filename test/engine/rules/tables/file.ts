/**
 * File rules (reference §3.3): a file under a CSIDL folder (or an absolute path), or under a folder named by a
 * registry string (…PrependRegSz). Collected and absent → False; not listed → Unknown.
 */
import type { Inventory, InventoryFile } from '../../../../engine/inventory/types.js';
import type { RuleTables } from '../harness.js';

const SYS = { '37': 'C:\\Windows\\System32' };
const at = (f: Partial<InventoryFile>, path = 'C:\\Windows\\System32\\a.dll'): Partial<Inventory> => ({
  csidl: SYS,
  files: [{ path, exists: true, ...f }],
});
const missing: Partial<Inventory> = { csidl: SYS, files: [{ path: 'C:\\Windows\\System32\\a.dll', exists: false }] };
const A = { Path: 'a.dll', Csidl: '37' };

/** The folder comes from HKLM\SOFTWARE\App\Dir; the file under it. */
const KEY = { Key: 'HKEY_LOCAL_MACHINE', Subkey: 'SOFTWARE\\App', Value: 'Dir', Path: 'b.exe' };
const underReg = (f: Partial<InventoryFile> | undefined, dir: string | number | null = 'D:\\App\\'): Partial<Inventory> => ({
  registry: [
    {
      key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\App',
      exists: true,
      values: dir === null ? [] : [{ name: 'Dir', type: typeof dir === 'number' ? 'REG_DWORD' : 'REG_SZ', data: dir }],
    },
  ],
  ...(f ? { files: [{ path: 'D:\\App\\b.exe', exists: true, ...f }] } : {}),
});

export const FILE_RULES: RuleTables = {
  FileExists: {
    valid: [
      { name: 'present under CSIDL 37', attrs: A, machine: at({}), fact: 'files' },
      { name: 'duplicate backslashes and case in Path', attrs: { Path: '\\\\A.DLL', Csidl: '37' }, machine: at({}), fact: 'files' },
      { name: 'absolute path without Csidl', attrs: { Path: 'C:\\Windows\\System32\\a.dll' }, machine: at({}), fact: 'files' },
      {
        name: 'every optional attribute matches',
        attrs: { ...A, Version: '1.2.0.0', Size: '10', Language: '1033', Created: '2020-01-01T00:00:00', Modified: '2021-01-01T00:00:00Z' },
        machine: at({ version: '1.2', size: 10, language: 1033, created: '2020-01-01T00:00:00Z', modified: '2021-01-01T00:00:00' }),
        fact: 'files',
      },
    ],
    invalid: [
      { name: 'collected, does not exist', attrs: A, machine: missing, fact: 'files' },
      { name: 'Version differs', attrs: { ...A, Version: '1.0.0.0' }, machine: at({ version: '1.0.0.1' }), fact: 'files' },
      {
        name: 'Size differs, even though Language was not collected',
        attrs: { ...A, Size: '10', Language: '1033' },
        machine: at({ size: 11 }),
        fact: 'files',
      },
      {
        name: 'Created differs',
        attrs: { ...A, Created: '2020-01-01T00:00:00' },
        machine: at({ created: '2020-01-01T00:00:01Z' }),
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'file not listed',
        attrs: A,
        machine: { csidl: SYS, files: [] },
        fact: 'files',
        reason: /file CSIDL 37\\a\.dll was not collected/,
      },
      {
        name: 'CSIDL folders not collected',
        attrs: A,
        machine: { files: [{ path: 'C:\\Windows\\System32\\a.dll', exists: true }] },
        fact: 'csidl',
      },
      { name: 'Language asked, not collected', attrs: { ...A, Language: '1033' }, machine: at({}), fact: 'files' },
      {
        name: 'Modified given in the inventory but not a readable date',
        attrs: { ...A, Modified: '2021-01-01T00:00:00' },
        machine: at({ modified: '2021-13-45T99:00:00Z' }),
        fact: 'files',
      },
      {
        name: 'Version given in the inventory but not a readable version',
        attrs: { ...A, Version: '1.2.0.0' },
        machine: at({ version: '1.2.beta' }),
        fact: 'files',
      },
      {
        name: 'Version attribute is not a version',
        attrs: { ...A, Version: 'one' },
        machine: at({ version: '1.0' }),
        fact: 'rule',
        reason: /invalid attribute data: Version "one" is not a version/,
      },
    ],
  },
  FileVersion: {
    valid: [
      {
        name: 'newer than wanted',
        attrs: { ...A, Comparison: 'GreaterThan', Version: '6.1.7601.17514' },
        machine: at({ version: '6.1.7601.23403' }),
        fact: 'files',
      },
      {
        name: 'short versions pad with zeros',
        attrs: { ...A, Comparison: 'EqualTo', Version: '6.1' },
        machine: at({ version: '6.1.0.0' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'older than wanted',
        attrs: { ...A, Comparison: 'GreaterThanOrEqualTo', Version: '6.1.7601.23403' },
        machine: at({ version: '6.1.7601.17514' }),
        fact: 'files',
      },
      { name: 'no version resource', attrs: { ...A, Comparison: 'LessThan', Version: '9.0.0.0' }, machine: at({}), fact: 'files' },
      { name: 'file absent', attrs: { ...A, Comparison: 'LessThan', Version: '9.0.0.0' }, machine: missing, fact: 'files' },
    ],
    unknown: [
      {
        name: 'file not listed',
        attrs: { ...A, Comparison: 'LessThan', Version: '9.0.0.0' },
        machine: { csidl: SYS },
        fact: 'files',
        reason: /not collected/,
      },
      {
        name: 'Comparison is not a scalar comparison',
        attrs: { ...A, Comparison: 'Bigger', Version: '1.0.0.0' },
        machine: at({ version: '2.0' }),
        fact: 'rule',
        reason: /invalid attribute data: Comparison "Bigger"/,
      },
    ],
  },
  FileCreated: {
    valid: [
      {
        name: 'created before the date (zone-less rule date is UTC)',
        attrs: { ...A, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: at({ created: '2023-12-31T23:59:59Z' }),
        fact: 'files',
      },
      {
        name: 'equal instants in different zones',
        attrs: { ...A, Comparison: 'EqualTo', Created: '2024-01-01T00:00:00Z' },
        machine: at({ created: '2024-01-01T01:00:00+01:00' }),
        fact: 'files',
      },
      {
        name: 'zone-less inventory date is UTC too',
        attrs: { ...A, Comparison: 'EqualTo', Created: '2024-01-01T00:00:00Z' },
        machine: at({ created: '2024-01-01T00:00:00' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'created after the date',
        attrs: { ...A, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: at({ created: '2024-01-01T00:00:01Z' }),
        fact: 'files',
      },
      { name: 'file absent', attrs: { ...A, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' }, machine: missing, fact: 'files' },
    ],
    unknown: [
      {
        name: 'creation time not collected',
        attrs: { ...A, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: at({}),
        fact: 'files',
      },
      {
        name: 'creation time unreadable (never "equal")',
        attrs: { ...A, Comparison: 'EqualTo', Created: '2024-01-01T00:00:00' },
        machine: at({ created: '2024-02-30T25:61:00Z' }),
        fact: 'files',
      },
      {
        name: 'Created attribute is not a date',
        attrs: { ...A, Comparison: 'LessThan', Created: 'yesterday' },
        machine: at({ created: '2023-01-01T00:00:00Z' }),
        fact: 'rule',
        reason: /is not a date-time/,
      },
    ],
  },
  FileModified: {
    valid: [
      {
        name: 'modified after the date',
        attrs: { ...A, Comparison: 'GreaterThanOrEqualTo', Modified: '2024-01-01T00:00:00' },
        machine: at({ modified: '2024-06-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'modified before the date',
        attrs: { ...A, Comparison: 'GreaterThanOrEqualTo', Modified: '2024-01-01T00:00:00' },
        machine: at({ modified: '2023-06-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'modification time not collected',
        attrs: { ...A, Comparison: 'GreaterThan', Modified: '2024-01-01T00:00:00' },
        machine: at({ created: '2024-06-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
  },
  FileSize: {
    valid: [{ name: 'larger', attrs: { ...A, Comparison: 'GreaterThan', Size: '100' }, machine: at({ size: 101 }), fact: 'files' }],
    invalid: [
      { name: 'equal is not larger', attrs: { ...A, Comparison: 'GreaterThan', Size: '100' }, machine: at({ size: 100 }), fact: 'files' },
      { name: 'file absent', attrs: { ...A, Comparison: 'GreaterThan', Size: '100' }, machine: missing, fact: 'files' },
    ],
    unknown: [
      { name: 'size not collected', attrs: { ...A, Comparison: 'GreaterThan', Size: '100' }, machine: at({}), fact: 'files' },
      {
        name: 'Size attribute is not a number',
        attrs: { ...A, Comparison: 'GreaterThan', Size: 'big' },
        machine: at({ size: 1 }),
        fact: 'rule',
        reason: /Size "big" is not an integer/,
      },
    ],
  },
  FileExistsPrependRegSz: {
    valid: [
      { name: 'file under the registry-named folder (trailing backslash)', attrs: KEY, machine: underReg({}), fact: 'files' },
      {
        name: 'Version given and equal',
        attrs: { ...KEY, Version: '4.18.0.0' },
        machine: underReg({ version: '4.18.0.0' }),
        fact: 'files',
      },
    ],
    invalid: [
      { name: 'folder value absent: the file is absent', attrs: KEY, machine: underReg(undefined, null), fact: 'registry' },
      { name: 'folder value is not a string', attrs: KEY, machine: underReg(undefined, 7), fact: 'registry' },
      {
        name: 'file listed as absent',
        attrs: KEY,
        machine: { ...underReg(undefined), files: [{ path: 'D:\\App\\b.exe', exists: false }] },
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'folder value collected, file not listed',
        attrs: KEY,
        machine: underReg(undefined),
        fact: 'files',
        reason: /file b\.exe under registry .* was not collected/,
      },
      { name: 'registry key not collected', attrs: KEY, machine: { files: [{ path: 'D:\\App\\b.exe', exists: true }] }, fact: 'registry' },
    ],
  },
  FileVersionPrependRegSz: {
    valid: [
      {
        name: 'Defender-style signature file newer',
        attrs: { ...KEY, Comparison: 'GreaterThanOrEqualTo', Version: '1.400.0.0' },
        machine: underReg({ version: '1.401.12.0' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'older',
        attrs: { ...KEY, Comparison: 'GreaterThanOrEqualTo', Version: '1.400.0.0' },
        machine: underReg({ version: '1.399.0.0' }),
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'file not listed',
        attrs: { ...KEY, Comparison: 'GreaterThanOrEqualTo', Version: '1.400.0.0' },
        machine: underReg(undefined),
        fact: 'files',
      },
    ],
  },
  FileCreatedPrependRegSz: {
    valid: [
      {
        name: 'created before',
        attrs: { ...KEY, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: underReg({ created: '2023-01-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'created after',
        attrs: { ...KEY, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: underReg({ created: '2025-01-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'creation time not collected',
        attrs: { ...KEY, Comparison: 'LessThan', Created: '2024-01-01T00:00:00' },
        machine: underReg({}),
        fact: 'files',
      },
    ],
  },
  FileModifiedPrependRegSz: {
    valid: [
      {
        name: 'modified on the date',
        attrs: { ...KEY, Comparison: 'EqualTo', Modified: '2024-01-01T00:00:00' },
        machine: underReg({ modified: '2024-01-01T00:00:00Z' }),
        fact: 'files',
      },
    ],
    invalid: [
      {
        name: 'modified another day',
        attrs: { ...KEY, Comparison: 'EqualTo', Modified: '2024-01-01T00:00:00' },
        machine: underReg({ modified: '2024-01-02T00:00:00Z' }),
        fact: 'files',
      },
    ],
    unknown: [
      {
        name: 'folder value not collected (values of the key not listed)',
        attrs: { ...KEY, Comparison: 'EqualTo', Modified: '2024-01-01T00:00:00' },
        machine: {
          registry: [{ key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\App', exists: true }],
          files: [{ path: 'D:\\App\\b.exe', exists: true }],
        },
        fact: 'registry',
      },
    ],
  },
  FileSizePrependRegSz: {
    valid: [{ name: 'smaller', attrs: { ...KEY, Comparison: 'LessThan', Size: '1000' }, machine: underReg({ size: 999 }), fact: 'files' }],
    invalid: [
      { name: 'not smaller', attrs: { ...KEY, Comparison: 'LessThan', Size: '1000' }, machine: underReg({ size: 1000 }), fact: 'files' },
    ],
    unknown: [
      { name: 'size not collected', attrs: { ...KEY, Comparison: 'LessThan', Size: '1000' }, machine: underReg({}), fact: 'files' },
    ],
  },
};
