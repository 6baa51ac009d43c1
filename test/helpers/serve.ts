import { spawn, type ChildProcess } from 'node:child_process';

export const BIN = new URL('../../dist/adapters/cli/bin.js', import.meta.url).pathname;

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
    ? spawn('bash', ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
