/**
 * What a catalog file's prepared leaves (catalog/scan-index.ts PreparedLeaves) mean rests on more than their own
 * code: on how a leaf's attributes are read (numbered-forms.ts, and the parsers it calls in compare.ts,
 * evaluators/file-registry.ts and evaluators/packages.ts), on the comparisons' order, on how GUIDs are normalized.
 * A change to any of them would make a file written before it hold numbers a scan now reads differently. So each set
 * of prepared leaves records this scheme — a digest of those tables, and of the forms numbered-forms.ts gives a fixed
 * set of sample leaves, edge cases included — and a scan uses stored leaves only under the scheme they were built
 * with (else it prepares each leaf as it meets it, as without them). A change the samples do not show is caught by
 * test/catalog/scan-index.test.ts's digest of the leaves of fixed catalogs (then bump PREPARED_LEAVES_VERSION).
 */
import { createHash } from 'node:crypto';
import { MSI_MAX_PRODUCTS, MSI_PATCH_KEY_SPAN, PREPARED_LEAVES_VERSION } from '../catalog/scan-index.js';
import { normalizeGuid } from '../inventory/machine.js';
import { BOOLEAN_ATTRIBUTES, checkBooleanAttributes, SCALAR_COMPARISONS } from './compare.js';
import { REGISTRY_VALUE_TYPES } from './evaluators/file-registry.js';
import { NUMBERED_FORMS, numberedForm } from './numbered-forms.js';

type Sample = readonly [type: string, attrs: Readonly<Record<string, string>>, identity?: string];

const VERSIONS = ['10.0.19041.3636', '1', ' 1.2 ', '01.2.3.4', '4294967295.0.0.1', '4294967296', '1.2.3.4.5', '1..2', 'x', ''];
const DWORDS = ['0', '10', ' 7', '0x10', '4294967295', '4294967296', '-1', '1.5', ''];
const TYPES = [...REGISTRY_VALUE_TYPES, ' REG_SZ ', 'REG_NONE', 'reg_sz', ''];
const GUIDS = ['{90160000-0011-0000-1000-0000000FF1CE}', '90160000-0011-0000-1000-0000000ff1ce', ' {aaaa} ', ''];
const COMPARISONS = [...SCALAR_COMPARISONS, 'lessthan', 'Equal', ''];

const SAMPLES: readonly Sample[] = [
  ...['FileVersion', 'FileVersionPrependRegSz'].flatMap((type) =>
    COMPARISONS.flatMap((Comparison) => VERSIONS.map((Version): Sample => [type, { Comparison, Version }])),
  ),
  ['FileVersion', { Version: '1.2' }],
  ...TYPES.map((Type): Sample => ['RegValueExists', { Type }]),
  ['RegValueExists', {}],
  ...COMPARISONS.flatMap((Comparison) => DWORDS.map((Data): Sample => ['RegDword', { Comparison, Data }])),
  ...GUIDS.flatMap((ProductCode) => GUIDS.map((PatchCode): Sample => ['MsiPatchInstalledForProduct', { ProductCode, PatchCode }])),
  ['MsiPatchInstalledForProduct', { ProductCode: GUIDS[0]!, PatchCode: GUIDS[1]!, VersionMin: '1.0' }],
  ['MsiPatchInstalledForProduct', { ProductCode: GUIDS[0]!, PatchCode: GUIDS[1]!, Language: '1033' }],
  ['CbsPackageInstalled', {}, 'Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.1'],
  ['CbsPackageInstalled', {}, ''],
  ['CbsPackageInstalledByIdentity', { PackageIdentity: 'Package_for_KB1~31bf3856ad364e35~amd64~~10.0.1.1' }],
  ['CbsPackageInstalledByIdentity', {}],
  // Boolean attributes are checked before a form is read (program.ts formOf).
  ...BOOLEAN_ATTRIBUTES.flatMap((a) =>
    ['true', 'false', '1', '0', 'yes', ' true '].map((v): Sample => ['RegDword', { Comparison: 'EqualTo', Data: '1', [a]: v }]),
  ),
];

/** A sample's form as a scan index would keep it (GUIDs normalized as the MSI table numbers them), or why there is none. */
function sampleForm([type, attrs, identity]: Sample): unknown {
  try {
    checkBooleanAttributes(attrs);
    const form = numberedForm(type, {
      attrs,
      facts: [7],
      loopRelative: () => false,
      meta: () => (identity === undefined ? undefined : { element: 'CbsPackage', attrs: { identity } }),
    });
    if (form?.table === 'msiPatch') return { ...form, product: normalizeGuid(form.product), patch: normalizeGuid(form.patch) };
    return form ?? null;
  } catch (e) {
    return `throws ${(e as Error).constructor.name}`;
  }
}

let scheme: string | undefined;

/** This build's scheme of prepared leaves (computed once per process). */
export function preparedLeavesScheme(): string {
  scheme ??= createHash('sha256')
    .update(
      JSON.stringify({
        version: PREPARED_LEAVES_VERSION,
        comparisons: SCALAR_COMPARISONS,
        types: Object.keys(NUMBERED_FORMS),
        msi: [MSI_MAX_PRODUCTS, MSI_PATCH_KEY_SPAN],
        samples: SAMPLES.map(sampleForm),
      }),
    )
    .digest('hex')
    .slice(0, 32);
  return scheme;
}
