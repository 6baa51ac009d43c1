/**
 * Why an enrolled computer has no scan to show, in words an administrator can act on — shared by the CLI
 * (`compliance`, `report computer`, `upload`), HTTP (`/v1/computers/NAME/compliance`, the upload's 202 note) and the
 * console, so every surface gives the same reasons.
 */
import type { ClientRow, SiteStore } from '../store/port.js';
import { targetingProgram } from './targeting.js';

const SCANNED_VARIANTS = new Set(['x86', 'x64', 'ia64', 'arm64']);

/** Why an accepted inventory of this architecture waits for targeting, or undefined when a program targets it. */
export function untargetedBecause(architecture: string | null, targeted: boolean, subject = 'it'): string | undefined {
  if (targeted) return undefined;
  return architecture && SCANNED_VARIANTS.has(architecture)
    ? `no advertised collection targets ${subject} (architecture ${architecture}): ` +
        `the inventory is kept and scanned once a collection that advertises the ` +
        `${architecture} scan program includes it (patchscan collection unlimit, or add ` +
        `it as a member)`
    : `no advertised collection targets ${subject}: its architecture (` +
        `${architecture ?? 'unknown'}) has no scan program (x86, x64, IA64 and ARM64 ` +
        `have one), so the inventory is kept but not scanned`;
}

export const NO_CATALOG = 'no catalog is in service yet: run patchscan sync (the inventory is kept and scanned after the first sync)';

/**
 * Every cause that applies: no inventory yet; no catalog in service; no advertised collection targets it (naming its
 * architecture); its scan failed; or it is queued and waiting for a scan worker.
 */
export async function whyNotScanned(store: SiteStore, client: ClientRow): Promise<string> {
  if (client.last_upload_at === null) return 'it has not uploaded an inventory yet (patchscan upload, on the client)';
  const because: string[] = [];
  if (!(await store.currentCatalog())) because.push(NO_CATALOG);
  const targeted =
    (await targetingProgram(store, client, false)) !== undefined || (await targetingProgram(store, client, true)) !== undefined;
  const untargeted = untargetedBecause(client.architecture, targeted);
  if (untargeted) because.push(untargeted);
  if (because.length > 0) return because.join('; and ');
  const failed = (await store.failedScans(200)).find((f) => f.clientId === client.id && f.failedAt >= client.last_upload_at!);
  if (failed)
    return `its scan failed: ${failed.error} (patchscan queue status lists failed scans; patchscan rescan ${client.name} tries again)`;
  const q = await store.queueStatus();
  return (
    `its inventory is queued for a scan (${q.queued.expedited + q.queued.normal} ` +
    `waiting, ${q.active} running; patchscan serve or patchscan worker runs them)`
  );
}

/** The sentence for a computer without a scan: "NAME has not been scanned yet: …", or that no such computer exists. */
export async function notScannedMessage(store: SiteStore, name: string): Promise<string> {
  const client = await store.client(name);
  return client ? `${client.name} has not been scanned yet: ${await whyNotScanned(store, client)}` : `no computer named ${name}`;
}
