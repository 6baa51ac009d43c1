/** `--name value` from the command line, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export const numArg = (name: string, def: string): number => Number(arg(name, def));
