/**
 * The catalog's numeric codes (engine/catalog/codes.ts) name the indices of the model's lists, which the file format
 * stores: a code that drifted from its list would decide every update of that type by the wrong branch.
 */
import { describe, expect, it } from 'vitest';
import {
  ACTION_BUNDLE,
  ACTION_EVALUATE,
  ACTION_INSTALL,
  isDetectoidOrCategory,
  isReportableCode,
  SLOT_IS_INSTALLABLE,
  SLOT_IS_INSTALLED,
  SLOT_IS_SUPERSEDED,
  TYPE_CATEGORY,
  TYPE_DETECTOID,
  TYPE_DRIVER,
  TYPE_SOFTWARE,
} from '../../../engine/catalog/codes.js';
import { SLOT_INDEX } from '../../../engine/catalog/data.js';
import { DEPLOYMENT_ACTIONS, RULE_SLOTS, UPDATE_TYPES } from '../../../engine/model.js';

describe('catalog codes are the indices of the model lists', () => {
  it.each([
    ['Software', TYPE_SOFTWARE],
    ['Driver', TYPE_DRIVER],
    ['Detectoid', TYPE_DETECTOID],
    ['Category', TYPE_CATEGORY],
  ] as const)('update type %s', (name, code) => expect(UPDATE_TYPES.indexOf(name)).toBe(code));

  it.each([
    ['Install', ACTION_INSTALL],
    ['Bundle', ACTION_BUNDLE],
    ['Evaluate', ACTION_EVALUATE],
  ] as const)('deployment action %s', (name, code) => expect(DEPLOYMENT_ACTIONS.indexOf(name)).toBe(code));

  it.each([
    ['IsInstalled', SLOT_IS_INSTALLED],
    ['IsInstallable', SLOT_IS_INSTALLABLE],
    ['IsSuperseded', SLOT_IS_SUPERSEDED],
  ] as const)('rule slot %s', (name, code) => {
    expect(RULE_SLOTS.indexOf(name)).toBe(code);
    expect(SLOT_INDEX[name]).toBe(code);
  });
});

describe('predicates over codes agree with the named lists', () => {
  const actions = [...DEPLOYMENT_ACTIONS.keys(), 255]; // 255: no DeploymentAction (indexOf -1 stored in a byte)
  for (const [type, typeName] of UPDATE_TYPES.entries()) {
    it(`${typeName}`, () => {
      expect(isDetectoidOrCategory(type)).toBe(typeName === 'Detectoid' || typeName === 'Category');
      for (const a of actions) expect(isReportableCode(type, a)).toBe(typeName === 'Software' && DEPLOYMENT_ACTIONS[a] !== 'Bundle');
    });
  }
});
