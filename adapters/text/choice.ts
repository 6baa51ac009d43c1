/**
 * Names typed by people — update states, listing modes — matched the same way on every surface: any case, spaces
 * around ignored. The CLI's option parser (adapters/cli/commands/args.ts choice) and HTTP's query parameters
 * (adapters/server/http.ts choiceParam) both use it, and name the accepted values when nothing matches.
 */
export function matchChoice<T extends string>(names: readonly T[], raw: string): T | undefined {
  const want = raw.trim().toLowerCase();
  return names.find((n) => n.toLowerCase() === want);
}

/** "give one of Installed, Required, NotApplicable, Unknown" */
export const acceptedChoices = (names: readonly string[]): string => `give one of ${names.join(', ')}`;
