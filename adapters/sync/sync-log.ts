/**
 * The sync log, in the layout of Configuration Manager's wsyncmgr.log so that the tools administrators already use
 * (CMTrace, grep scripts) read it: `text  $$<component><MM-dd-yyyy HH:mm:ss.fff+000><thread=N (0xN)>`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function syncLogLine(text: string, at = new Date()): string {
  const stamp =
    `${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}-${at.getUTCFullYear()} ` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.` +
    `${pad(at.getUTCMilliseconds(), 3)}+000`;
  return (
    `${text.replace(/\r?\n/g, ' ')}  $$<SMS_LEGACY_UPDATE_SYNC><${stamp}><thread=` +
    `${process.pid} (0x${process.pid.toString(16).toUpperCase()})>`
  );
}

export class SyncLog {
  readonly path: string;
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'wsyncmgr.log');
  }
  write(text: string): void {
    appendFileSync(this.path, `${syncLogLine(text)}\n`);
  }
}
