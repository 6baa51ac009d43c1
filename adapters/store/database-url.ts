/**
 * A database URL made safe to print. Its own module, without pg: the CLI masks a URL in an error message also where
 * pg is not installed (an optional dependency: adapters/store/open.ts).
 */

/**
 * The URL with its password (in the user-info part, and a `password=` query parameter) replaced by `***`: safe to
 * print, log and put in error messages.
 */
export function maskDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    // URLSearchParams re-encodes `*`; keep the mask readable.
    return u.toString().replace(/password=%2A%2A%2A/g, 'password=***');
  } catch {
    // Not a WHATWG URL (pg also takes key=value strings): mask anything that looks like a password.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@').replace(/(password\s*=\s*)('[^']*'|[^\s&]+)/gi, '$1***');
  }
}
