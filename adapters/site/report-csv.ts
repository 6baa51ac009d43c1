/**
 * Every site report as CSV: one function a report, shared by the CLI (`--csv`) and HTTP (`?format=csv`) so the two give
 * the same columns, in the same order, with or without rows. Each row type's columns are listed whole (csvColumns
 * checks it at compile time).
 */
import type { OutcomeCounts } from '../../engine/scanner/counting.js';
import type { ComputerListRow, DailyRow } from '../store/port.js';
import { csvColumns, toCsv } from '../text/csv.js';
import type { CollectionRow, ComputerCompliance, GroupRow, MachineRow, SyncEvent } from './reports.js';
import type { FleetUpdateRow } from './update-list.js';
import { describeCriteria, type GroupComputer, type GroupComputerUpdate, type GroupSummary, type GroupTally } from './update-groups.js';

/** One machine × update of `report update` / `report cve`. */
export const machinesCsv = (rows: readonly MachineRow[]): string =>
  toCsv(
    rows,
    csvColumns<MachineRow>({
      computer: true,
      updateId: true,
      state: true,
      superseded: true,
      reason: true,
      scannedAt: true,
      possiblySuperseded: true,
    }),
  );

interface ComplianceCsvRow {
  readonly computer: string;
  readonly kb: string;
  readonly title: string;
  readonly classification: string;
  readonly severity: string;
  readonly releaseDate: string;
  readonly cves: readonly string[];
  readonly moreInfoUrl: string;
  readonly state: string;
  readonly superseded: boolean;
  readonly possiblySuperseded: boolean;
  readonly reason: string;
  readonly scannedAt: string;
  /** The SHA-256 of the catalog the scan used. */
  readonly catalog: string;
}

const COMPLIANCE_COLUMNS = csvColumns<ComplianceCsvRow>({
  computer: true,
  kb: true,
  title: true,
  classification: true,
  severity: true,
  releaseDate: true,
  cves: true,
  moreInfoUrl: true,
  state: true,
  superseded: true,
  possiblySuperseded: true,
  reason: true,
  scannedAt: true,
  catalog: true,
});

/** A computer's latest scan, one row an update (`report computer --csv`, /v1/computers/<name>/compliance). */
export const complianceCsv = (c: ComputerCompliance): string =>
  toCsv(
    c.updates.map((u): ComplianceCsvRow => ({
      computer: c.computer,
      kb: u.kb,
      title: u.title,
      classification: u.classification,
      severity: u.severity,
      releaseDate: u.releaseDate,
      cves: u.cves,
      moreInfoUrl: u.moreInfoUrl,
      state: u.state,
      superseded: u.superseded,
      possiblySuperseded: u.possiblySuperseded,
      reason: u.reason,
      scannedAt: c.scannedAt,
      catalog: c.catalog.sha256,
    })),
    COMPLIANCE_COLUMNS,
  );

export const collectionsCsv = (rows: readonly CollectionRow[]): string =>
  toCsv(
    rows,
    csvColumns<CollectionRow>({
      name: true,
      limitedTo: true,
      members: true,
      enrolled: true,
      scanned: true,
      compliant: true,
      required: true,
      superseded: true,
      possiblySuperseded: true,
      unknown: true,
    }),
  );

/** Per classification or product. */
export const groupRowsCsv = (rows: readonly GroupRow[]): string =>
  toCsv(
    rows,
    csvColumns<GroupRow>({ name: true, installed: true, required: true, superseded: true, possiblySuperseded: true, unknown: true }),
  );

type StaleRow = { readonly name: string; readonly lastUpload: string | null; readonly lastScan: string | null };
export const staleCsv = (rows: readonly StaleRow[]): string =>
  toCsv(rows, csvColumns<StaleRow>({ name: true, lastUpload: true, lastScan: true }));

export const syncCsv = (rows: readonly SyncEvent[]): string =>
  toCsv(rows, csvColumns<SyncEvent>({ id: true, at: true, messageId: true, severity: true, text: true, catalogId: true }));

/** Fleet compliance per day: the CSV's columns, and the CLI table's (it shows every one). */
export const TREND_COLUMNS = csvColumns<DailyRow>({
  day: true,
  clients: true,
  scanned: true,
  compliant: true,
  installed: true,
  required: true,
  superseded: true,
  possiblySuperseded: true,
  unknown: true,
});
export const trendCsv = (rows: readonly DailyRow[]): string => toCsv(rows, TREND_COLUMNS);

export const computersCsv = (rows: readonly ComputerListRow[]): string =>
  toCsv(
    rows,
    csvColumns<ComputerListRow>({
      name: true,
      architecture: true,
      os: true,
      lastUpload: true,
      scannedAt: true,
      installed: true,
      required: true,
      superseded: true,
      possiblySuperseded: true,
      unknown: true,
    }),
  );

type FlatUpdateRow = Omit<FleetUpdateRow, 'counts'> & Readonly<OutcomeCounts>;
const UPDATE_COLUMNS = csvColumns<FlatUpdateRow>({
  updateId: true,
  kb: true,
  title: true,
  classification: true,
  severity: true,
  products: true,
  cves: true,
  releaseDate: true,
  moreInfoUrl: true,
  installed: true,
  required: true,
  superseded: true,
  possiblySuperseded: true,
  notApplicable: true,
  unknown: true,
});

/** The fleet's updates list, its counts as columns. */
export const updatesCsv = (rows: readonly FleetUpdateRow[]): string =>
  toCsv(
    rows.map(({ counts, ...info }): FlatUpdateRow => ({ ...info, ...counts })),
    UPDATE_COLUMNS,
  );

type CveRow = { readonly cve: string; readonly updates: readonly string[] };
/** CVEs matching a search, each with its updates (KB, or the update id without one). */
export const cvesCsv = (found: readonly { cve: string; updates: readonly { updateId: string; kb: string }[] }[]): string =>
  toCsv(
    found.map((r): CveRow => ({ cve: r.cve, updates: r.updates.map((u) => (u.kb ? `KB${u.kb}` : u.updateId)) })),
    csvColumns<CveRow>({ cve: true, updates: true }),
  );

const TALLY_COLUMNS = {
  members: true,
  compliant: true,
  nonCompliant: true,
  unknown: true,
  overdue: true,
  compliancePercent: true,
} as const satisfies { readonly [K in keyof GroupTally]-?: true };

type GroupCsvRow = GroupTally & { readonly name: string; readonly updates: number; readonly deadline: string; readonly criteria: string };
/** Every update group with the fleet's compliance. */
export const groupsCsv = (groups: readonly GroupSummary[]): string =>
  toCsv(
    groups.map((g): GroupCsvRow => ({
      name: g.name,
      updates: g.updates,
      deadline: g.deadline ?? '',
      ...g.fleet,
      criteria: describeCriteria(g.criteria),
    })),
    csvColumns<GroupCsvRow>({ name: true, updates: true, deadline: true, ...TALLY_COLUMNS, criteria: true }),
  );

type CollectionTally = GroupTally & { readonly collection: string };
/** A group's compliance per collection. */
export const groupCollectionsCsv = (rows: readonly CollectionTally[]): string =>
  toCsv(rows, csvColumns<CollectionTally>({ collection: true, ...TALLY_COLUMNS }));

/** A group's computers with their standing. */
export const groupComputersCsv = (rows: readonly GroupComputer[]): string =>
  toCsv(
    rows,
    csvColumns<GroupComputer>({
      computer: true,
      architecture: true,
      scannedAt: true,
      state: true,
      missing: true,
      superseded: true,
      possiblySuperseded: true,
      installed: true,
      notApplicable: true,
      unknown: true,
      overdue: true,
    }),
  );

type GroupUpdateCsvRow = {
  readonly kb: string;
  readonly title: string;
  readonly updateId: string;
  readonly state: string;
  readonly superseded: boolean;
  readonly possiblySuperseded: boolean;
  readonly missing: boolean;
};
/** One computer against a group: each of the group's updates on it. */
export const groupComputerCsv = (updates: readonly GroupComputerUpdate[]): string =>
  toCsv(
    updates.map((u): GroupUpdateCsvRow => ({
      kb: u.kb,
      title: u.title,
      updateId: u.updateId,
      state: u.state,
      superseded: u.superseded,
      possiblySuperseded: u.possiblySuperseded,
      missing: u.missing,
    })),
    csvColumns<GroupUpdateCsvRow>({
      kb: true,
      title: true,
      updateId: true,
      state: true,
      superseded: true,
      possiblySuperseded: true,
      missing: true,
    }),
  );
