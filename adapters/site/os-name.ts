/**
 * The operating system of an inventory as administrators name it — "Windows 10 22H2 (10.0.19045.3803)",
 * "Windows Server 2019 (10.0.17763.5206)", "Windows 7 SP1 (6.1.7601)" — for the console's OS column. Windows 10 and
 * 11 (and Server 2016 on) share version 10.0: the build number tells them and their feature update apart, and the
 * product type tells a workstation from a server. A build this table does not know keeps its number.
 */
import type { InventoryOs } from '../../engine/inventory/types.js';

/** Windows 10 and 11 feature updates by build number. */
const CLIENT_RELEASES: Readonly<Record<number, string>> = {
  10240: '1507',
  10586: '1511',
  14393: '1607',
  15063: '1703',
  16299: '1709',
  17134: '1803',
  17763: '1809',
  18362: '1903',
  18363: '1909',
  19041: '2004',
  19042: '20H2',
  19043: '21H1',
  19044: '21H2',
  19045: '22H2',
  22000: '21H2',
  22621: '22H2',
  22631: '23H2',
  26100: '24H2',
  26200: '25H2',
};
/** Windows Server releases of version 10.0 by build number. */
const SERVER_RELEASES: Readonly<Record<number, string>> = { 14393: '2016', 17763: '2019', 20348: '2022', 26100: '2025' };

/** Versions before 10.0: [workstation name, server name]. */
const OLDER: Readonly<Record<string, readonly [string, string]>> = {
  '6.3': ['Windows 8.1', 'Windows Server 2012 R2'],
  '6.2': ['Windows 8', 'Windows Server 2012'],
  '6.1': ['Windows 7', 'Windows Server 2008 R2'],
  '6.0': ['Windows Vista', 'Windows Server 2008'],
  '5.2': ['Windows XP Professional x64', 'Windows Server 2003'],
  '5.1': ['Windows XP', 'Windows XP'],
  '5.0': ['Windows 2000 Professional', 'Windows 2000 Server'],
};

export function osName(os: InventoryOs | undefined): string | null {
  if (!os) return null;
  const server = os.productType !== 1;
  const version = `${os.major}.${os.minor}.${os.build}${os.ubr !== undefined ? `.${os.ubr}` : ''}`;
  let name: string;
  if (os.major === 10 && os.minor === 0) {
    if (server) name = SERVER_RELEASES[os.build] ? `Windows Server ${SERVER_RELEASES[os.build]}` : 'Windows Server';
    else name = `${os.build >= 22000 ? 'Windows 11' : 'Windows 10'}${CLIENT_RELEASES[os.build] ? ` ${CLIENT_RELEASES[os.build]}` : ''}`;
  } else {
    const older = OLDER[`${os.major}.${os.minor}`];
    name = older ? older[server ? 1 : 0] : 'Windows';
  }
  const sp = os.spMajor ? ` SP${os.spMajor}` : '';
  return `${name}${sp} (${version})`;
}
