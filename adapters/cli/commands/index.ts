/**
 * The site commands, one file per group. Each works on a site directory (`--data DIR`, or $PATCHSCAN_DATA,
 * default ./patchscan-data) and its database (`--database`, or the configuration). Only `init` makes a site;
 * the others refuse a directory without patchscan.json and create nothing (site-options.ts).
 */
import type { Command } from 'commander';
import { addClientCommands } from './clients.js';
import { addCollectionCommands } from './collections.js';
import { addGroupCommands } from './groups.js';
import { addInitCommands } from './init.js';
import { addReportCommands } from './reports.js';
import { addScanCommands, addWorkerCommand } from './scans.js';
import { addServeCommands } from './serve.js';
import { addSyncCommands } from './sync.js';

export function addSiteCommands(program: Command): void {
  addInitCommands(program);
  addSyncCommands(program);
  addClientCommands(program);
  addServeCommands(program);
  addScanCommands(program);
  addWorkerCommand(program);
  addCollectionCommands(program);
  addReportCommands(program);
  addGroupCommands(program);
}
