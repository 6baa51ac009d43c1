/**
 * The inventory: one machine's installed state, as a client uploads it (docs/inventory.md,
 * docs/inventory.schema.json). Version 1.
 *
 * The one rule that matters: **absent is not unknown**. A section or entry that is missing means "not collected"
 * (rules reading it answer Unknown, naming the fact); an entry that says `exists: false`, a `null` map value, or
 * a complete list that lacks an item means "collected and absent" (rules answer False).
 */

export const INVENTORY_SCHEMA = 'patchscan-inventory/1';

export type RegistryView = 'native' | '32';
export type RegistryType = 'REG_SZ' | 'REG_EXPAND_SZ' | 'REG_MULTI_SZ' | 'REG_DWORD' | 'REG_QWORD' | 'REG_BINARY' | 'REG_NONE';

export interface InventoryOs {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  /** Update build revision (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\UBR); Windows 10 and later. */
  readonly ubr?: number;
  readonly spMajor?: number;
  readonly spMinor?: number;
  /** 1 workstation, 2 domain controller, 3 server. */
  readonly productType: number;
  readonly suiteMask?: number;
  /** BCP-47 tag of the installation language, e.g. `en-US`. */
  readonly installLanguage?: string;
  readonly uiLanguages?: readonly string[];
  readonly muiInstalled?: boolean;
}

export interface InventoryProcessor {
  /** SYSTEM_INFO.wProcessorArchitecture: 0 x86, 5 ARM, 6 IA64, 9 x64, 12 ARM64. */
  readonly architecture: number;
  readonly level?: number;
  readonly revision?: number;
  readonly count?: number;
}

export interface InventoryFile {
  /** Full path, e.g. `C:\Windows\System32\ntoskrnl.exe` (case-insensitive). */
  readonly path: string;
  readonly exists: boolean;
  /** Four-part file version from the version resource; absent when the file has none. */
  readonly version?: string;
  readonly size?: number;
  readonly created?: string;
  readonly modified?: string;
  readonly language?: number;
}

export interface InventoryRegistryValue {
  /** Value name; '' is the key's default value. */
  readonly name: string;
  readonly type: RegistryType;
  /** number for DWORD/QWORD, string for SZ/EXPAND_SZ and BINARY (hex), string[] for MULTI_SZ. */
  readonly data: number | string | readonly string[];
}

export interface InventoryRegistryKey {
  /** Full key path, e.g. `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion`. */
  readonly key: string;
  readonly view?: RegistryView;
  readonly exists: boolean;
  /** Every value of the key (complete: a value not listed does not exist). */
  readonly values?: readonly InventoryRegistryValue[];
  /** Names of every subkey (complete), for RegKeyLoop and for "absent" below a collected key. */
  readonly subkeys?: readonly string[];
}

export interface InventoryMsiProduct {
  readonly productCode: string;
  readonly version?: string;
  readonly language?: number;
  readonly features?: readonly string[];
  readonly components?: readonly string[];
  readonly patches?: readonly string[];
}

export interface InventoryCbsPackage {
  /** `name~publicKeyToken~architecture~language~version` as DISM prints it. */
  readonly identity: string;
  /** DISM state: Installed, Superseded, InstallPending, Staged, UninstallPending, Absent… */
  readonly state: string;
}

export interface InventoryWmiResult {
  readonly namespace: string;
  readonly query: string;
  /** Number of instances the query returned. */
  readonly count: number;
}

export interface Inventory {
  readonly schema: typeof INVENTORY_SCHEMA;
  readonly computer: { readonly name: string; readonly id?: string; readonly domain?: string };
  readonly collectedAt: string;
  readonly os?: InventoryOs;
  readonly processor?: InventoryProcessor;
  /** CSIDL number → folder (SHGetFolderPath), e.g. `{"37": "C:\\Windows\\System32"}`. */
  readonly csidl?: Readonly<Record<string, string>>;
  readonly files?: readonly InventoryFile[];
  readonly registry?: readonly InventoryRegistryKey[];
  /** Complete list of installed MSI products when present. */
  readonly msi?: { readonly products: readonly InventoryMsiProduct[] };
  /** Complete list of CBS packages when present; `applicable` = DISM applicability per identity, when collected. */
  readonly cbs?: { readonly packages: readonly InventoryCbsPackage[]; readonly applicable?: Readonly<Record<string, boolean>> };
  readonly wmi?: readonly InventoryWmiResult[];
  /** GetSystemMetrics index → value; null = collected, not available. */
  readonly systemMetrics?: Readonly<Record<string, number | null>>;
  /** Licensing policy GUID → DWORD value; null = collected, not set. */
  readonly licensing?: Readonly<Record<string, number | null>>;
  readonly cluster?: { readonly clustered: boolean };
  /** Complete list of installed product releases (Windows 10+ OS installer rules). */
  readonly productReleases?: readonly { readonly name: string; readonly version: string }[];
  /** Device attributes (OSSkuId, OSVersion, …) → value; null = collected, not set. */
  readonly deviceAttributes?: Readonly<Record<string, string | null>>;
}
