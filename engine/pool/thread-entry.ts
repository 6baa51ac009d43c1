/**
 * The file a worker thread runs, next to the module that starts it: `name`.js from the build, or `name`.ts with tsx
 * when that module itself runs from its .ts sources (under vitest).
 */
import { fileURLToPath } from 'node:url';

/**
 * piscina loads a worker file with `require()` first and `import()` second. On Node 20.19+ `require()` of an ES
 * module is on by default, and a pool destroyed while a worker is still inside that synchronous load aborts the
 * whole process ("v8::Module::IsGraphAsync must be used on an instantiated module" — seen about once in 60 short
 * batches). Turning require(esm) off in the workers sends piscina straight to `import()`, which a terminated
 * worker abandons cleanly.
 */
const NO_REQUIRE_ESM: readonly string[] = (process.features as { require_module?: boolean }).require_module
  ? ['--no-experimental-require-module']
  : [];

/** `from`: the import.meta.url of the module starting the thread; `name`: the thread's file, without extension. */
export function threadEntry(from: string, name: string): { filename: string; execArgv: string[] } {
  if (fileURLToPath(from).endsWith('.ts'))
    return { filename: fileURLToPath(new URL(`./${name}.ts`, from)), execArgv: [...NO_REQUIRE_ESM, '--import', 'tsx'] };
  return { filename: fileURLToPath(new URL(`./${name}.js`, from)), execArgv: [...NO_REQUIRE_ESM] };
}

/**
 * The source of an `eval` worker that loads the thread's file, for a plain `new Worker` (not piscina): the built
 * `name`.js by import(), or under vitest `name`.ts through tsx's API (a worker's `--import tsx` does not reach a
 * Worker's own file or what it imports on Node 20: ".ts" is refused).
 */
export function threadScript(from: string, name: string): string {
  const ts = fileURLToPath(from).endsWith('.ts');
  const file = JSON.stringify(new URL(`./${name}.${ts ? 'ts' : 'js'}`, from).href);
  if (!ts) return `import(${file});`;
  return `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${file}, ${file}));`;
}
