/**
 * CBS rules (reference §3.6): packages by identity, and CbsPackageInstallable (DISM's applicability, or inferred
 * without it — docs/semantics.md "CbsPackageInstallable without DISM data").
 */
import type { Inventory, InventoryCbsPackage } from '../../../../engine/inventory/types.js';
import type { RuleMetadata } from '../../../../engine/model.js';
import type { RuleTables } from '../harness.js';

const IE = 'InternetExplorer-Package~31bf3856ad364e35~amd64~~11.2.9600.16428';
const pkgs = (...ps: [string, string][]): Partial<Inventory> => ({
  cbs: { packages: ps.map(([identity, state]): InventoryCbsPackage => ({ identity, state })) },
});

/** KB5026368's package, as its real metadata names it (test/fixtures/fragments/wsus-m0-cbs__cbs-rollupfix-core-reduced.xml). */
const KB5026368 = 'Package_for_RollupFix~31bf3856ad364e35~arm64~~22000.1936.1.9';
const rollup = (identity: string): RuleMetadata => {
  const [name, token, arch, lang, version] = identity.split('~');
  const attrs = { name: name, publicKeyToken: token, processorArchitecture: arch, language: lang || 'neutral', version: version, identity };
  return { element: 'CbsPackageApplicabilityMetadata', attrs };
};
const META = rollup(KB5026368);
/** Windows 10 22H2 reports build 19045 and installs 19041.x cumulative updates. */
const WIN10_LCU = rollup('Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3930.1.6');
const SSU = rollup('Package_for_ServicingStack_1935~31bf3856ad364e35~arm64~~22000.1935.1.2');

const arm = (build: number, ubr: number | undefined, ...ps: [string, string][]): Partial<Inventory> => ({
  os: { major: 10, minor: 0, build, productType: 1, ...(ubr !== undefined ? { ubr } : {}) },
  processor: { architecture: 12 },
  ...pkgs(...ps),
});
const x64 = (build: number, ubr: number | undefined): Partial<Inventory> => ({ ...arm(build, ubr), processor: { architecture: 9 } });

export const CBS_RULES: RuleTables = {
  CbsPackageInstalledByIdentity: {
    valid: [
      { name: 'installed (long identity both sides)', attrs: { PackageIdentity: IE }, machine: pkgs([IE, 'Installed']), fact: 'cbs' },
      { name: 'Superseded counts as installed', attrs: { PackageIdentity: IE }, machine: pkgs([IE, 'Superseded']), fact: 'cbs' },
      { name: 'case does not matter', attrs: { PackageIdentity: IE.toUpperCase() }, machine: pkgs([IE, 'installed']), fact: 'cbs' },
      {
        name: 'an empty part of the rule matches any',
        attrs: { PackageIdentity: 'InternetExplorer-Package~~amd64~~11.2.9600.16428' },
        machine: pkgs([IE, 'Installed']),
        fact: 'cbs',
      },
    ],
    invalid: [
      { name: 'not in the (complete) list', attrs: { PackageIdentity: IE }, machine: pkgs(), fact: 'cbs' },
      { name: 'Staged is not installed', attrs: { PackageIdentity: IE }, machine: pkgs([IE, 'Staged']), fact: 'cbs' },
      { name: 'InstallPending is not installed', attrs: { PackageIdentity: IE }, machine: pkgs([IE, 'InstallPending']), fact: 'cbs' },
      { name: 'another version', attrs: { PackageIdentity: IE }, machine: pkgs([IE.replace('16428', '16429'), 'Installed']), fact: 'cbs' },
      {
        name: 'another architecture',
        attrs: { PackageIdentity: IE },
        machine: pkgs([IE.replace('amd64', 'x86'), 'Installed']),
        fact: 'cbs',
      },
      {
        name: 'an empty language in the inventory is the neutral language, not any',
        attrs: { PackageIdentity: IE.replace('~~', '~en-US~') },
        machine: pkgs([IE, 'Installed']),
        fact: 'cbs',
      },
    ],
    unknown: [
      {
        name: 'CBS packages not collected',
        attrs: { PackageIdentity: IE },
        machine: {},
        fact: 'cbs',
        reason: /CBS package InternetExplorer-Package~\S+ was not collected/i,
      },
    ],
  },
  CbsPackageInstalled: {
    valid: [{ name: "the update's own package installed", meta: META, machine: pkgs([KB5026368, 'Installed']), fact: 'cbs' }],
    invalid: [
      {
        name: 'only the newer rollup installed (the older one cleaned up)',
        meta: META,
        machine: pkgs([KB5026368.replace('1936.1.9', '2003.1.4'), 'Installed']),
        fact: 'cbs',
      },
      { name: 'the package Staged', meta: META, machine: pkgs([KB5026368, 'Staged']), fact: 'cbs' },
    ],
    unknown: [
      { name: 'CBS packages not collected', meta: META, machine: { ...arm(22000, 1936), cbs: undefined }, fact: 'cbs' },
      {
        name: 'the update carries no CBS metadata',
        machine: pkgs([KB5026368, 'Installed']),
        fact: 'rule',
        reason: /invalid attribute data: no CBS package identity/,
      },
    ],
  },
  CbsPackageInstallable: {
    valid: [
      { name: 'DISM says it applies', meta: META, machine: { cbs: { packages: [], applicable: { [KB5026368]: true } } }, fact: 'cbs' },
      { name: 'same build, UBR below the revision', meta: META, machine: arm(22000, 1935), fact: 'os' },
      { name: 'enablement build: 19045 machine, 19041 rollup, UBR below', meta: WIN10_LCU, machine: x64(19045, 3803), fact: 'os' },
      { name: 'the package Staged, UBR below', meta: META, machine: arm(22000, 1900, [KB5026368, 'Staged']), fact: 'os' },
      {
        name: 'the package InstallPending, UBR below (a restart completes it)',
        meta: META,
        machine: arm(22000, 1900, [KB5026368, 'InstallPending']),
        fact: 'os',
      },
      { name: 'the package itself Installed (a re-offer)', meta: META, machine: arm(22000, 1936, [KB5026368, 'Installed']), fact: 'cbs' },
    ],
    invalid: [
      {
        name: 'DISM says it does not apply',
        meta: META,
        machine: { ...arm(22000, 1), cbs: { packages: [], applicable: { [KB5026368]: false } } },
        fact: 'cbs',
      },
      { name: 'UBR equal to the revision', meta: META, machine: arm(22000, 1936), fact: 'os' },
      {
        name: 'UBR past the revision (issue 15: 22000.2003)',
        meta: META,
        machine: arm(22000, 2003, [KB5026368.replace('1936.1.9', '2003.1.4'), 'Installed']),
        fact: 'os',
      },
      { name: 'another build (even without the UBR)', meta: META, machine: arm(22621, undefined), fact: 'os' },
      { name: 'another architecture', meta: META, machine: x64(22000, 100), fact: 'processor' },
      {
        name: 'the package itself Superseded (even without the UBR)',
        meta: META,
        machine: arm(22000, undefined, [KB5026368, 'Superseded']),
        fact: 'cbs',
      },
      { name: 'enablement build past the revision', meta: WIN10_LCU, machine: x64(19045, 3930), fact: 'os' },
      { name: 'a servicing stack of another build', meta: SSU, machine: arm(22621, 1), fact: 'os' },
    ],
    unknown: [
      {
        name: 'UBR not collected',
        meta: META,
        machine: arm(22000, undefined),
        fact: 'os',
        reason: /not inferable: the machine's UBR was not collected \(the package is 22000\.1936\)/,
      },
      {
        name: 'the package InstallPending, UBR not collected',
        meta: META,
        machine: arm(22000, undefined, [KB5026368, 'InstallPending']),
        fact: 'os',
      },
      { name: 'processor not collected', meta: META, machine: { ...arm(22000, 1), processor: undefined }, fact: 'processor' },
      {
        name: 'CBS packages not collected',
        meta: META,
        machine: { os: { major: 10, minor: 0, build: 22000, ubr: 1, productType: 1 }, processor: { architecture: 12 } },
        fact: 'cbs',
      },
      {
        name: 'not a cumulative update: its revision is not the UBR',
        meta: SSU,
        machine: arm(22000, 2003),
        fact: 'os',
        reason: /not a cumulative update/,
      },
      {
        name: 'an identity without a build in its version',
        meta: rollup('Package_for_DotNetRollup_481~31bf3856ad364e35~amd64~~10.0.9166.1'),
        machine: x64(19045, 1),
        fact: 'rule',
      },
    ],
  },
};

/**
 * Short `name~version` identities match on either side (issue 15 item 2): rule short/long × inventory short/long.
 * [rule identity, inventory identity, installed?]
 */
export const SHORT_IDENTITIES: readonly [string, string, boolean][] = [
  ['InternetExplorer-Package~11.2.9600.16428', 'InternetExplorer-Package~11.2.9600.16428', true],
  ['InternetExplorer-Package~11.2.9600.16428', IE, true],
  [IE, 'InternetExplorer-Package~11.2.9600.16428', true],
  [IE, IE, true],
  ['InternetExplorer-Package~11.2.9600.16428', 'InternetExplorer-Package~11.2.9600.17000', false],
  ['InternetExplorer-Package~11.2.9600.16428', IE.replace('16428', '17000'), false],
  [IE, 'InternetExplorer-Package~11.2.9600.17000', false],
  [IE, 'Other-Package~11.2.9600.16428', false],
  ['InternetExplorer-Package~11.2.9600.16428', 'Other-Package~11.2.9600.16428', false],
];
