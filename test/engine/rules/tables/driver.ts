/**
 * Driver rules (reference §3.7): evaluated against the driver metadata and the machine's devices, which an
 * inventory does not carry (drivers are not in wsusscn2) — Unknown, naming the rule.
 */
import type { RuleMetadata } from '../../../../engine/model.js';
import type { RuleCase, RuleTables } from '../harness.js';

const DRIVER: RuleMetadata = {
  element: 'WindowsDriverMetaData',
  attrs: { HardwareID: 'PCI\\VEN_8086&DEV_1234', DriverVerVersion: '1.2.3.4' },
};
const unknown = (type: string, extra: Partial<RuleCase> = {}): RuleTables[keyof RuleTables] => ({
  valid: [],
  invalid: [],
  unknown: [
    {
      name: 'devices are not in an inventory',
      meta: DRIVER,
      machine: { os: { major: 10, minor: 0, build: 19045, productType: 1 } },
      fact: 'rule',
      reason: new RegExp(`rule ${type} is not evaluated`),
      ...extra,
    },
  ],
});

export const DRIVER_RULES: RuleTables = {
  WindowsDriverInstalled: unknown('WindowsDriverInstalled'),
  WindowsDriverSuperseded: unknown('WindowsDriverSuperseded'),
  WindowsDriverInstallable: unknown('WindowsDriverInstallable'),
  FeatureScore: unknown('FeatureScore'),
  DistributionComputerHardwareId: unknown('DistributionComputerHardwareId'),
  TargetComputerHardwareId: unknown('TargetComputerHardwareId'),
  CompatibleProvider: unknown('CompatibleProvider'),
  InstalledVersionRange: unknown('InstalledVersionRange', { attrs: { Min: '1.0.0.0', Max: '2.0.0.0' } }),
};
