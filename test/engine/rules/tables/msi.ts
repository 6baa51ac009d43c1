/**
 * MSI rules (reference §3.5): products, features, components and patches of the (complete) installed product list;
 * the patch/application metadata rules read the update's Metadata blob.
 */
import type { Inventory, InventoryMsiProduct } from '../../../../engine/inventory/types.js';
import type { RuleMetadata } from '../../../../engine/model.js';
import type { RuleTables } from '../harness.js';

const OFFICE = '{90160000-0011-0000-1000-0000000FF1CE}';
const VISIO = '{90160000-0051-0000-1000-0000000FF1CE}';
const PATCH = '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}';
const msi = (...ps: Partial<InventoryMsiProduct>[]): Partial<Inventory> => ({
  msi: { products: ps.map((p) => ({ productCode: OFFICE, ...p })) },
});
const office = (extra: Partial<InventoryMsiProduct> = {}): Partial<Inventory> =>
  msi({ version: '16.0.4266.1001', language: 1033, ...extra });
const P = { ProductCode: OFFICE };
const items = (tag: 'Feature' | 'Component', names: string[], products = [OFFICE]) => [
  ...products.map((p) => ({ tag: 'Product', attrs: { ProductCode: p } })),
  ...names.map((n) => ({ tag, attrs: { [tag === 'Feature' ? 'Name' : 'ComponentCode']: n } })),
];
const C1 = '{11111111-0000-0000-0000-000000000001}';
const C2 = '{11111111-0000-0000-0000-000000000002}';
const patchMeta: RuleMetadata = { element: 'MsiPatchMetadata', attrs: { PatchCode: PATCH } };
const appMeta: RuleMetadata = { element: 'MsiApplicationMetadata', attrs: { ProductCode: OFFICE } };
const notEvaluated = (meta: RuleMetadata, reason: RegExp): RuleTables[keyof RuleTables] => ({
  valid: [],
  invalid: [],
  unknown: [{ name: 'needs what an inventory does not carry', meta, machine: office({ patches: [PATCH] }), fact: 'rule', reason }],
});

export const MSI_RULES: RuleTables = {
  MsiProductInstalled: {
    valid: [
      { name: 'installed', attrs: P, machine: office(), fact: 'msi' },
      { name: 'braces and case do not matter', attrs: { ProductCode: OFFICE.toLowerCase().slice(1, -1) }, machine: office(), fact: 'msi' },
      {
        name: 'within VersionMin..VersionMax',
        attrs: { ...P, VersionMin: '16.0.0.0', VersionMax: '16.0.4266.1001' },
        machine: office(),
        fact: 'msi',
      },
      { name: 'Language filter', attrs: { ...P, Language: '1033' }, machine: office(), fact: 'msi' },
    ],
    invalid: [
      { name: 'not in the complete list', attrs: { ProductCode: VISIO }, machine: office(), fact: 'msi' },
      { name: 'VersionMin missed', attrs: { ...P, VersionMin: '16.0.5000.0' }, machine: office(), fact: 'msi' },
      {
        name: 'ExcludeVersionMin excludes equality',
        attrs: { ...P, VersionMin: '16.0.4266.1001', ExcludeVersionMin: 'true' },
        machine: office(),
        fact: 'msi',
      },
      {
        name: 'ExcludeVersionMax excludes equality',
        attrs: { ...P, VersionMax: '16.0.4266.1001', ExcludeVersionMax: 'true' },
        machine: office(),
        fact: 'msi',
      },
      { name: 'another language', attrs: { ...P, Language: '1031' }, machine: office(), fact: 'msi' },
      {
        name: 'another language decides even when the version was not collected',
        attrs: { ...P, VersionMin: '1.0', Language: '1031' },
        machine: msi({ language: 1033 }),
        fact: 'msi',
      },
    ],
    unknown: [
      { name: 'product list not collected', attrs: P, machine: {}, fact: 'msi', reason: /MSI product .* was not collected/i },
      { name: 'version filter, version not collected', attrs: { ...P, VersionMin: '1.0.0.0' }, machine: msi({}), fact: 'msi' },
      { name: 'language filter, language not collected', attrs: { ...P, Language: '1033' }, machine: msi({ version: '1.0' }), fact: 'msi' },
      ...['True', 'yes'].map((v) => ({
        name: `ExcludeVersionMin ${v} is not a boolean (xs:boolean: true, false, 1 or 0)`,
        attrs: { ...P, VersionMin: '1.0', ExcludeVersionMin: v },
        machine: office(),
        fact: 'rule' as const,
        reason: new RegExp(`invalid attribute data: ExcludeVersionMin "${v}" is not a boolean`),
      })),
      {
        name: 'VersionMin is not a version',
        attrs: { ...P, VersionMin: 'latest' },
        machine: office(),
        fact: 'rule',
        reason: /VersionMin "latest" is not a version/,
      },
    ],
  },
  MsiFeatureInstalledForProduct: {
    valid: [
      {
        name: 'one of the features',
        items: items('Feature', ['WORDFiles', 'EXCELFiles']),
        machine: office({ features: ['WORDFiles'] }),
        fact: 'msi',
      },
      {
        name: 'all features, all present',
        attrs: { AllFeaturesRequired: 'true' },
        items: items('Feature', ['WORDFiles', 'EXCELFiles']),
        machine: office({ features: ['EXCELFiles', 'WordFiles'] }),
        fact: 'msi',
      },
      {
        name: 'one of the products has it',
        items: items('Feature', ['WORDFiles'], [VISIO, OFFICE]),
        machine: office({ features: ['WORDFiles'] }),
        fact: 'msi',
      },
    ],
    invalid: [
      {
        name: 'all features required, one missing',
        attrs: { AllFeaturesRequired: 'true' },
        items: items('Feature', ['WORDFiles', 'EXCELFiles']),
        machine: office({ features: ['WORDFiles'] }),
        fact: 'msi',
      },
      {
        name: 'all products required, one not installed',
        attrs: { AllProductsRequired: 'true' },
        items: items('Feature', ['WORDFiles'], [VISIO, OFFICE]),
        machine: office({ features: ['WORDFiles'] }),
        fact: 'msi',
      },
      { name: 'product not installed', items: items('Feature', ['WORDFiles']), machine: msi(), fact: 'msi' },
    ],
    unknown: [
      { name: 'features not collected', items: items('Feature', ['WORDFiles']), machine: office(), fact: 'msi' },
      {
        name: 'no Product item',
        items: [{ tag: 'Feature', attrs: { Name: 'WORDFiles' } }],
        machine: office({ features: ['WORDFiles'] }),
        fact: 'rule',
        reason: /needs at least one Product and one Feature/,
      },
    ],
  },
  MsiComponentInstalledForProduct: {
    valid: [
      {
        name: 'one of the components (braces, case)',
        items: items('Component', [C1, C2]),
        machine: office({ components: [C2.toLowerCase().slice(1, -1)] }),
        fact: 'msi',
      },
    ],
    invalid: [
      {
        name: 'all components required, one missing',
        attrs: { AllComponentsRequired: 'true' },
        items: items('Component', [C1, C2]),
        machine: office({ components: [C1] }),
        fact: 'msi',
      },
    ],
    unknown: [{ name: 'components not collected', items: items('Component', [C1]), machine: office(), fact: 'msi' }],
  },
  MsiPatchInstalledForProduct: {
    valid: [
      {
        name: 'patch applied',
        attrs: { PatchCode: PATCH, ProductCode: OFFICE },
        machine: office({ patches: [PATCH.toLowerCase()] }),
        fact: 'msi',
      },
      {
        name: 'patch applied, product in the version range',
        attrs: { PatchCode: PATCH, ProductCode: OFFICE, VersionMax: '17.0' },
        machine: office({ patches: [PATCH] }),
        fact: 'msi',
      },
    ],
    invalid: [
      {
        name: 'patch not applied',
        attrs: { PatchCode: PATCH, ProductCode: OFFICE },
        machine: office({ patches: [] }),
        fact: 'msi',
        reason: /product installed; patches none;/,
      },
      { name: 'product not installed', attrs: { PatchCode: PATCH, ProductCode: OFFICE }, machine: { msi: { products: [] } }, fact: 'msi' },
      {
        name: 'product outside the version range, patches not collected',
        attrs: { PatchCode: PATCH, ProductCode: OFFICE, VersionMin: '17.0' },
        machine: office(),
        fact: 'msi',
      },
    ],
    unknown: [
      { name: 'patches not collected', attrs: { PatchCode: PATCH, ProductCode: OFFICE }, machine: office(), fact: 'msi' },
      {
        name: 'patch applied, but the version filter cannot be checked',
        attrs: { PatchCode: PATCH, ProductCode: OFFICE, VersionMin: '1.0' },
        machine: msi({ patches: [PATCH] }),
        fact: 'msi',
      },
    ],
  },
  MsiPatchInstalled: {
    valid: [
      {
        name: 'the patch is applied to some product',
        meta: patchMeta,
        machine: msi({ productCode: VISIO, patches: [] }, { patches: [PATCH] }),
        fact: 'msi',
      },
    ],
    invalid: [
      { name: 'applied to no product', meta: patchMeta, machine: office({ patches: [] }), fact: 'msi' },
      { name: 'no product at all', meta: patchMeta, machine: { msi: { products: [] } }, fact: 'msi' },
    ],
    unknown: [
      { name: "a product's patches not collected", meta: patchMeta, machine: msi({ productCode: VISIO, patches: [] }, {}), fact: 'msi' },
      {
        name: 'the update carries no MsiPatchMetadata',
        machine: office({ patches: [PATCH] }),
        fact: 'rule',
        reason: /carries no MsiPatchMetadata/,
      },
    ],
  },
  MsiApplicationInstalled: {
    valid: [{ name: 'the application product installed', meta: appMeta, machine: office(), fact: 'msi' }],
    invalid: [{ name: 'not installed', meta: appMeta, machine: msi({ productCode: VISIO }), fact: 'msi' }],
    unknown: [
      { name: 'product list not collected', meta: appMeta, machine: {}, fact: 'msi' },
      {
        name: 'the update carries no MsiApplicationMetadata',
        machine: office(),
        fact: 'rule',
        reason: /carries no MsiApplicationMetadata/,
      },
    ],
  },
  MsiPatchSuperseded: notEvaluated(patchMeta, /rule MsiPatchSuperseded is not evaluated: it needs the patch applicability blob/),
  MsiPatchInstallable: notEvaluated(patchMeta, /rule MsiPatchInstallable is not evaluated: it needs the patch applicability blob/),
  MsiApplicationSuperseded: notEvaluated(appMeta, /rule MsiApplicationSuperseded is not evaluated: MSI application supersedence is not/),
  MsiApplicationInstallable: notEvaluated(appMeta, /rule MsiApplicationInstallable is not evaluated: MSI application applicability is not/),
};
