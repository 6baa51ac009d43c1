import { describe, expect, it } from 'vitest';
import { evalRule } from '../../reference/reference-evaluator.js';
import { engineValue, machine, testRuleTables } from './harness.js';
import { CBS_RULES, SHORT_IDENTITIES } from './tables/cbs.js';

testRuleTables('CBS rules', CBS_RULES);

describe('short CBS identities (name~version) match on either side', () => {
  it.each(SHORT_IDENTITIES)('rule %s, inventory %s → installed %s', (wanted, listed, installed) => {
    const rule = { kind: 'rule', type: 'CbsPackageInstalledByIdentity', family: 'cbs', attrs: { PackageIdentity: wanted } } as const;
    const inv = machine({ cbs: { packages: [{ identity: listed, state: 'Installed' }] } });
    expect(engineValue(rule, undefined, inv).value).toBe(installed ? 'True' : 'False');
    expect(evalRule(rule, inv)).toBe(installed ? 'T' : 'F');
    // The same identities as DISM applicability keys (CbsPackageInstallable reads them the same way).
    // The update's own identity is always five-part (it comes from assemblyIdentity).
    const [name, version] = wanted.split('~');
    const identity = wanted.includes('~31bf') ? wanted : `${name}~31bf3856ad364e35~amd64~~${version}`;
    const meta = { element: 'CbsPackageApplicabilityMetadata', attrs: { identity } };
    const dism = machine({ cbs: { packages: [], applicable: { [listed]: true } } });
    const installable = { kind: 'rule', type: 'CbsPackageInstallable', family: 'cbs', attrs: {} } as const;
    expect(engineValue(installable, meta, dism).value).toBe(installed ? 'True' : 'Unknown');
  });
});
