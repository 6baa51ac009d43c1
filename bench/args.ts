/** `--name value` from the command line, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export const numArg = (name: string, def: string): number => Number(arg(name, def));

/** Whether `--name` (a flag without a value) is on the command line. */
export const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/**
 * `--json`: the benchmark prints one JSON line on stdout (its figures, for bench/issue-14.bench.ts) and its usual
 * human-readable lines on stderr, where they still show progress. Without it, the human lines go to stdout as before.
 */
export const jsonOut = flag('json');
export const say = (line: string): void => {
  if (jsonOut) process.stderr.write(`${line}\n`);
  else console.log(line);
};
/** The one JSON line of `--json`. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
