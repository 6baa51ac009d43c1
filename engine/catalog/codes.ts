/**
 * The small integer codes the compiled catalog stores per update (catalog/data.ts `updates.type`, `updates.action`,
 * `updates.rules`), named for the code that reads them on the scan's hot path. Each is the index of its name in the
 * model's list (UPDATE_TYPES, DEPLOYMENT_ACTIONS, RULE_SLOTS) — the file format — and test/engine/catalog/codes.test.ts
 * holds the two to each other. Plain module constants, not enums: under `isolatedModules` TypeScript emits an enum
 * as an object and reads its members as properties, where a constant is a value the JIT folds in.
 */

/** `updates.type`: index in UPDATE_TYPES. */
export const TYPE_SOFTWARE = 0;
export const TYPE_DRIVER = 1;
export const TYPE_DETECTOID = 2;
export const TYPE_CATEGORY = 3;

/** `updates.action`: index in DEPLOYMENT_ACTIONS. */
export const ACTION_INSTALL = 0;
export const ACTION_BUNDLE = 1;
export const ACTION_EVALUATE = 2;

/** A rule slot's offset in `updates.rules` (three per update; data.ts SLOT_INDEX by name): index in RULE_SLOTS. */
export const SLOT_IS_INSTALLED = 0;
export const SLOT_IS_INSTALLABLE = 1;
export const SLOT_IS_SUPERSEDED = 2;
export type SlotCode = typeof SLOT_IS_INSTALLED | typeof SLOT_IS_INSTALLABLE | typeof SLOT_IS_SUPERSEDED;

/** Detectoids and categories: decided by their IsInstalled rule alone, and "installed" for prerequisites by it. */
export function isDetectoidOrCategory(type: number): boolean {
  return type === TYPE_DETECTOID || type === TYPE_CATEGORY;
}

/** Whether an update of these codes is a row of the default report: software that is not a bundle-only child. */
export function isReportableCode(type: number, action: number): boolean {
  return type === TYPE_SOFTWARE && action !== ACTION_BUNDLE;
}
