/**
 * `patchscan catalog import … --package FILE.sdp.xml`: third-party update packages (SCUP / WSUS local publishing,
 * here HP's real driver package) compiled beside Microsoft's updates, then shown and scanned like them (issue 16,
 * item 6: adapters/xml/sdp.ts was reached only from tests; it is now a feature).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/serve.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const run = (args: string[]): CliRun => runCli(args);
const CAB = join(FIXTURES, 'wsusscn2', 'wsusscn2.cab');
const HP = join(FIXTURES, 'fragments', 'example-HP-sdp-00004850-0000-0000-5350-000000094728.sdp.xml');
const HP_ID = '00004850-0000-0000-5350-000000094728';
const HP_TITLE = 'Synaptics HD audio driver for 2018 DT [8.65.296.0.A3]';

/** An HP machine with the 840a board and the Synaptics audio device, and the driver at `driver`. */
const hpMachine = (driver: string): Record<string, unknown> => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'HP-DT' },
  collectedAt: '2026-11-24T00:00:00Z',
  os: { major: 10, minor: 0, build: 17763, productType: 1 },
  processor: { architecture: 9 },
  csidl: { '37': 'C:\\Windows\\System32' },
  wmi: [
    {
      namespace: 'Root\\cimv2',
      query:
        "select * from Win32_ComputerSystem where (Manufacturer='Hewlett-Packard' and " +
        "not (Model like '%Proliant%')) or (Manufacturer='HP') ",
      count: 1,
    },
    { namespace: 'Root\\cimv2', query: "select * from Win32_BaseBoard where Product LIKE '%840a%'", count: 1 },
    {
      namespace: 'Root\\cimv2',
      query:
        'select * from Win32_PnpEntity where DeviceID LIKE ' +
        "'%HDAUDIO\\\\FUNC_01&VEN_14F1&DEV_5098&SUBSYS_103C840A%' or DeviceID LIKE " +
        "'%HDAUDIO\\\\FUNC_01&VEN_14F1&DEV_5098&SUBSYS_103C8476%'",
      count: 1,
    },
  ],
  files: [{ path: 'C:\\Windows\\System32\\drivers\\CHDRT64.sys', exists: true, version: driver }],
  registry: [
    {
      key: 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion',
      exists: true,
      values: [{ name: 'ReleaseId', type: 'REG_SZ', data: '1809' }],
    },
  ],
});

describe('catalog import --package', () => {
  const dir = tempDir();
  const catalog = join(dir, 'with-hp.pscat');

  it('compiles the HP package beside the Microsoft updates; catalog show finds it by its id and by its KB (SoftPaq)', () => {
    const r = run(['catalog', 'import', CAB, '--out', catalog, '--package', HP]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`with 1 third-party package(s): ${HP}`);
    const shown = run(['catalog', 'show', catalog, HP_ID]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^KBsp94728 {2}${HP_TITLE.replace(/[.[\]]/g, '\\$&')}`));
    expect(shown.out).toMatch(/IsInstallable:\n {4}And/);
    // The package names its classification in words ("Updates"); this cabinet has no such category, so the name is
    // Microsoft's, from classifications.ts, and not the GUID the package was compiled with.
    expect(shown.out).toMatch(/^Classification {2}Updates$/m);
    expect(run(['catalog', 'info', catalog]).out).toMatch(/^Classification .*[ ,]Updates 1(,|$)/m);
    expect(run(['catalog', 'show', catalog, 'KBsp94728']).code).toBe(0);
    // Without --package the catalog does not hold it.
    const plain = join(dir, 'plain.pscat');
    expect(run(['catalog', 'import', CAB, '--out', plain]).code).toBe(0);
    expect(run(['catalog', 'show', plain, HP_ID]).code).toBe(2);
    // The two come from one cabinet (one source SHA-256); catalog info tells them apart by the package and its digest.
    const digest = createHash('sha256').update(readFileSync(HP)).digest('hex');
    expect(run(['catalog', 'info', catalog]).out).toContain(`Third-party    ${HP} (SHA-256 ${digest})`);
    expect(JSON.parse(run(['catalog', 'info', catalog, '--json']).out)).toMatchObject({
      source: { thirdParty: [{ path: HP, sha256: digest }] },
    });
    expect(run(['catalog', 'info', plain]).out).not.toContain('Third-party');
  });

  it('scans it: Required with the old driver (naming the driver file), Installed with the new one', () => {
    const scan = (driver: string): Record<string, string> | undefined => {
      const file = join(dir, `hp-${driver}.json`);
      writeFileSync(file, JSON.stringify(hpMachine(driver)));
      const r = run(['scan', '-c', catalog, file, '--all', '-f', 'json']);
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as Record<string, string>[]).find((row) => row.updateId === HP_ID);
    };
    expect(scan('8.65.200.0')).toMatchObject({
      title: HP_TITLE,
      state: 'Required',
      reason: expect.stringMatching(/chdrt64\.sys: exists, version 8\.65\.200\.0; the rule requires version >= 8\.65\.296\.0/),
    });
    expect(scan('8.65.296.0')).toMatchObject({ state: 'Installed' });
  });

  it('a package that is not one is refused naming the file (exit 2); a missing one is an IO error (exit 1); no catalog is written', () => {
    const bad = join(dir, 'bad.sdp.xml');
    writeFileSync(bad, '<Something/>');
    const out = join(dir, 'never.pscat');
    const r = run(['catalog', 'import', CAB, '--out', out, '--package', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`patchscan: CATALOG_BAD_FORMAT: ${bad}: no SoftwareDistributionPackage root element\n`);
    const m = run(['catalog', 'import', CAB, '--out', out, '--package', join(dir, 'missing.sdp.xml')]);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/^patchscan: IO: .*missing\.sdp\.xml/);
    expect(run(['catalog', 'info', out]).code).not.toBe(0);
  });
});
