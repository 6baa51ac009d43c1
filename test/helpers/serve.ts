import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const BIN = new URL('../../dist/adapters/cli/bin.js', import.meta.url).pathname;

/** What a run of the CLI gave: its exit code (-1 when a signal ended it), standard output and standard error. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface CliOptions {
  readonly cwd?: string;
  /** Added to the environment (which never carries the caller's PATCHSCAN_DATA or PATCHSCAN_DATABASE). */
  readonly env?: Record<string, string>;
  /** Killed past this (ms; runCli's default 60 s, runCliAsync's none): the run then reports code -1. */
  readonly timeout?: number;
}

/** The environment a test's CLI runs in: the test's own, without a site of the developer's, plus `env`. */
function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...env };
  if (!('PATCHSCAN_DATA' in env)) delete e.PATCHSCAN_DATA;
  if (!('PATCHSCAN_DATABASE' in env)) delete e.PATCHSCAN_DATABASE;
  return e;
}

/** Runs the built CLI (`patchscan …args`) to its end, blocking: for tests that have nothing else to serve meanwhile. */
export function runCli(args: readonly string[], o: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: o.cwd,
    env: cliEnv(o.env),
    timeout: o.timeout ?? 60_000,
    maxBuffer: 512 * 1024 * 1024,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** {@link runCli} without blocking this process: for tests whose own servers must answer the CLI meanwhile. */
export function runCliAsync(args: readonly string[], o: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd, env: cliEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    // No limit unless asked: the test's own timeout ends a run that hangs.
    const timer = o.timeout === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), o.timeout);
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

/**
 * Starts `patchscan serve` (the built CLI) as a child process, optionally through a shell prefix (e.g. to set a
 * ulimit), and resolves once it prints its URL. `output()` is everything it wrote so far (stdout and stderr).
 */
export function startServe(
  data: string,
  opts: { shell?: string } = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const args = [BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0'];
  const child = opts.shell
    ? spawn('bash', ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, ...args], {
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, args, { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}
