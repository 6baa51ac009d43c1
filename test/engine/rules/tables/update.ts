/**
 * Windows 10+ rules seen in real metadata (reference §3.8): product releases (OS installer updates), device
 * attributes, Store (appx) packages.
 */
import type { Inventory } from '../../../../engine/inventory/types.js';
import type { RuleMetadata } from '../../../../engine/model.js';
import type { RuleTables } from '../harness.js';

const REL = 'Client.OS.RS2.ARM64';
const releases = (...rs: [string, string][]): Partial<Inventory> => ({ productReleases: rs.map(([name, version]) => ({ name, version })) });
const attrs = (a: Record<string, string | null>): Partial<Inventory> => ({ deviceAttributes: a });
const appx: RuleMetadata = { element: 'AppxPackageMetadata', attrs: { PackageMoniker: 'Microsoft.WindowsStore_8wekyb3d8bbwe' } };

export const UPDATE_RULES: RuleTables = {
  ProductReleaseInstalled: {
    valid: [
      {
        name: 'at that version (real OS installer rule)',
        attrs: { Name: REL, Version: '10.0.22621.5909' },
        machine: releases([REL, '10.0.22621.5909']),
        fact: 'productReleases',
      },
      {
        name: 'a later version (INFERRED: "at Version or later")',
        attrs: { Name: REL, Version: '10.0.22621.5909' },
        machine: releases([REL, '10.0.22631.1']),
        fact: 'productReleases',
      },
      {
        name: 'no Version: any release of the name, case-insensitive',
        attrs: { Name: REL.toLowerCase() },
        machine: releases([REL, '1.0']),
        fact: 'productReleases',
      },
    ],
    invalid: [
      {
        name: 'older',
        attrs: { Name: REL, Version: '10.0.22621.5909' },
        machine: releases([REL, '10.0.22621.100']),
        fact: 'productReleases',
      },
      {
        name: 'not in the complete list',
        attrs: { Name: REL },
        machine: releases(['Client.OS.RS2.AMD64', '10.0.22621.5909']),
        fact: 'productReleases',
      },
    ],
    unknown: [
      {
        name: 'releases not collected',
        attrs: { Name: REL },
        machine: {},
        fact: 'productReleases',
        reason: /product release .* was not collected/i,
      },
      {
        name: 'Version is not a version',
        attrs: { Name: REL, Version: 'x' },
        machine: releases([REL, '1.0']),
        fact: 'rule',
        reason: /invalid attribute data/,
      },
    ],
  },
  ProductReleaseVersion: {
    valid: [
      {
        name: 'LessThan',
        attrs: { Name: REL, Comparison: 'LessThan', Version: '10.0.22621.5909' },
        machine: releases([REL, '10.0.22621.100']),
        fact: 'productReleases',
      },
      {
        name: 'Comparison defaults to EqualTo',
        attrs: { Name: REL, Version: '10.0.22621.100' },
        machine: releases([REL, '10.0.22621.100']),
        fact: 'productReleases',
      },
    ],
    invalid: [
      {
        name: 'not less',
        attrs: { Name: REL, Comparison: 'LessThan', Version: '10.0.22621.5909' },
        machine: releases([REL, '10.0.22621.5909']),
        fact: 'productReleases',
      },
      {
        name: 'no release of that name (INFERRED: False)',
        attrs: { Name: REL, Comparison: 'LessThan', Version: '10.0.22621.5909' },
        machine: releases(),
        fact: 'productReleases',
      },
    ],
    unknown: [
      { name: 'releases not collected', attrs: { Name: REL, Version: '1.0' }, machine: {}, fact: 'productReleases' },
      {
        name: 'no Version attribute',
        attrs: { Name: REL },
        machine: releases([REL, '1.0']),
        fact: 'rule',
        reason: /Version null is not a version/,
      },
    ],
  },
  DeviceAttribute: {
    valid: [
      {
        name: 'Version comparison',
        attrs: { Name: 'OSVersion', Type: 'Version', Comparison: 'GreaterThanOrEqualTo', Value: '10.0.22621.1' },
        machine: attrs({ OSVersion: '10.0.22621.2861' }),
        fact: 'deviceAttributes',
      },
      {
        name: 'String EqualTo, case-insensitive (name and value)',
        attrs: { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: 'ENTERPRISE' },
        machine: attrs({ SKU: 'enterprise' }),
        fact: 'deviceAttributes',
      },
      {
        name: 'Type defaults to String',
        attrs: { Name: 'CurrentBranch', Comparison: 'BeginsWith', Value: 'ni_' },
        machine: attrs({ CurrentBranch: 'ni_release' }),
        fact: 'deviceAttributes',
      },
    ],
    invalid: [
      {
        name: 'OSSkuId 119 excluded by the real rule: 4 is not 119',
        attrs: { Name: 'OSSkuId', Type: 'String', Comparison: 'EqualTo', Value: '119' },
        machine: attrs({ OSSkuId: '4' }),
        fact: 'deviceAttributes',
      },
      {
        name: 'collected as not set (null)',
        attrs: { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: '4' },
        machine: attrs({ sku: null }),
        fact: 'deviceAttributes',
      },
      {
        name: 'a Version attribute that is not a version',
        attrs: { Name: 'OSVersion', Type: 'Version', Comparison: 'EqualTo', Value: '10.0' },
        machine: attrs({ OSVersion: 'n/a' }),
        fact: 'deviceAttributes',
      },
    ],
    unknown: [
      {
        name: 'that attribute not collected',
        attrs: { Name: 'sku', Type: 'String', Comparison: 'EqualTo', Value: '4' },
        machine: attrs({}),
        fact: 'deviceAttributes',
        reason: /device attribute sku was not collected/i,
      },
      {
        name: 'an unknown Type',
        attrs: { Name: 'sku', Type: 'Integer', Comparison: 'EqualTo', Value: '4' },
        machine: attrs({ sku: '4' }),
        fact: 'rule',
        reason: /Type "Integer" is not String or Version/,
      },
      {
        name: 'a scalar Comparison on a String',
        attrs: { Name: 'sku', Type: 'String', Comparison: 'LessThan', Value: '4' },
        machine: attrs({ sku: '4' }),
        fact: 'rule',
        reason: /not a string comparison/,
      },
    ],
  },
  AppxPackageInstalled: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'Store applicability is not evaluated',
        meta: appx,
        machine: attrs({}),
        fact: 'rule',
        reason: /Store \(appx\) applicability is not evaluated/,
      },
    ],
  },
  AppxPackageInstallable: {
    valid: [],
    invalid: [],
    unknown: [
      {
        name: 'Store applicability is not evaluated',
        meta: appx,
        machine: attrs({}),
        fact: 'rule',
        reason: /Store \(appx\) applicability is not evaluated/,
      },
    ],
  },
};
