/**
 * Every error patchscan raises on purpose carries a stable `code`: users, scripts and tests match on the code,
 * never on the message (which may improve over time). Errors cross worker boundaries as `{ code, message, details }`
 * and are rebuilt with {@link PatchscanError.fromJSON}.
 */

export const ErrorCodes = {
  /** The file is not a cabinet, or its header is damaged. */
  CAB_BAD_HEADER: 'Cabinet header is missing or damaged',
  /** The cabinet ends before the structures it declares. */
  CAB_TRUNCATED: 'Cabinet is truncated',
  /** A folder, file or data block points outside the cabinet or at nothing. */
  CAB_BAD_STRUCTURE: 'Cabinet structure is inconsistent',
  /** Compressed data does not decode. */
  CAB_BAD_DATA: 'Cabinet data does not decompress',
  /** A compression method we refuse (Quantum) or do not know. */
  CAB_UNSUPPORTED: 'Cabinet uses an unsupported feature',
  /** An entry name would escape the extraction directory. */
  CAB_UNSAFE_PATH: 'Cabinet entry name is unsafe',
  /** A configured limit (size, count) was exceeded. */
  CAB_LIMIT: 'Cabinet exceeds a configured limit',
  /** XML is not well-formed, or uses a refused feature (DTD, entities). */
  XML_MALFORMED: 'XML is malformed',
  /** XML is well-formed but not the shape the catalog format requires. */
  CATALOG_BAD_FORMAT: 'Catalog content is not in the expected format',
  /** A file the catalog needs is missing. */
  CATALOG_MISSING_FILE: 'Catalog is missing a required file',
  /** A compiled catalog file is damaged, from another version, or not a catalog. */
  COMPILED_BAD_FILE: 'Compiled catalog file is damaged or incompatible',
  /** An inventory document is malformed; the message names the field. */
  INVENTORY_INVALID: 'Inventory is invalid',
  /** The thing the user asked for does not exist. */
  NOT_FOUND: 'Not found',
  /** A command-line argument or option is wrong. */
  BAD_ARGUMENT: 'Bad argument',
  /** The site configuration (patchscan.json) has a key that is unknown or has a value it does not accept. */
  BAD_CONFIG: 'Bad site configuration',
  /** A server refused the credentials given (a wrong, reset or missing token). */
  UNAUTHENTICATED: 'The server refused the credentials',
  /** A file-system operation failed (permissions, disk full, missing path). */
  IO: 'File-system operation failed',
  /** The site database cannot be reached or written now (down, locked, disk full); nothing was stored. */
  STORE_UNAVAILABLE: 'The site database cannot be reached or written',
  /** A bug in patchscan: an invariant did not hold. Please report it with the message. */
  INTERNAL: 'Internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface PatchscanErrorJSON {
  readonly name: 'PatchscanError';
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class PatchscanError extends Error {
  override readonly name = 'PatchscanError';
  readonly code: ErrorCode;
  /** Machine-readable context: file, offset, element, limit… */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** Works across realms and worker threads, where `instanceof` does not. */
  static is(value: unknown, code?: ErrorCode): value is PatchscanError {
    if (typeof value !== 'object' || value === null) return false;
    const v = value as { name?: unknown; code?: unknown };
    return v.name === 'PatchscanError' && typeof v.code === 'string' && (code === undefined || v.code === code);
  }

  toJSON(): PatchscanErrorJSON {
    return { name: 'PatchscanError', code: this.code, message: this.message, details: this.details };
  }

  static fromJSON(json: PatchscanErrorJSON): PatchscanError {
    return new PatchscanError(json.code, json.message, { ...json.details });
  }
}

/** Wraps a Node.js file-system error into an `IO` error a user can act on. */
export function ioError(action: string, path: string, cause: unknown): PatchscanError {
  const sys = cause as NodeJS.ErrnoException;
  const why =
    sys?.code === 'ENOSPC'
      ? 'the disk is full'
      : sys?.code === 'EACCES' || sys?.code === 'EPERM'
        ? 'permission denied'
        : sys?.code === 'ENOENT'
          ? 'no such file or directory'
          : sys?.code === 'EROFS'
            ? 'the file system is read-only'
            : sys?.code === 'EISDIR'
              ? 'it is a directory, where a file is needed'
              : sys?.code === 'ENOTDIR'
                ? 'a part of the path is not a directory'
                : (sys?.message ?? String(cause));
  return new PatchscanError('IO', `cannot ${action} ${path}: ${why}`, { path, syscode: sys?.code }, { cause });
}
