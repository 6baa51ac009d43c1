/**
 * The source of a worker thread that runs `main` (read-thread.ts, checkpoint-thread.ts): an eval worker starts with
 * one native module to load and nothing to compile, also when the adapters run from their .ts sources (tests).
 * `__name` is what a TypeScript transform that keeps function names (vitest's) may call inside it.
 */
export const evalWorkerSource = (main: () => void): string => `var __name = (f) => f; (${main.toString()})();`;
