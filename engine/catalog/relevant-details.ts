/**
 * Which optional inventory details (rules/reads.ts DETAIL_FIELDS: file size, dates, language, processor detail)
 * any rule of a catalog can read. What is not read is left out of everything keyed by rule inputs — a machine's
 * profile fingerprint (fleet/fingerprint.ts, fleet/*-profile.ts) and the section memo's keys (scanner/section-memo.ts)
 * — so machines that differ only there share results.
 */
import { ruleReads, type Detail } from '../rules/reads.js';
import type { Catalog } from './catalog.js';
import { RULE_OP_BASE } from './data.js';

export type RelevantDetails = Readonly<Record<Detail, boolean>>;

export function relevantDetails(c: Catalog): RelevantDetails {
  const d: Record<Detail, boolean> = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };
  for (let n = 0; n < c.data.nodes.count; n++) {
    const op = c.data.nodes.op[n]!;
    if (op < RULE_OP_BASE) continue;
    const details = ruleReads(c.data.ruleTypes[op - RULE_OP_BASE] ?? '').details;
    if (details !== undefined) for (const detail of details(c.nodeAttrs(n))) d[detail] = true;
  }
  return d;
}
