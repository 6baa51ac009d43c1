#!/usr/bin/env node
import { ioError } from '../../engine/errors.js';
import { main } from './main.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  // `patchscan scan … | head` closes the pipe early: that is the reader's choice, not an error.
  if (e.code === 'EPIPE') process.exit(0);
  // Anything else (a full disk behind `> file`): one line, as every other IO error, never a stack trace.
  process.stderr.write(`patchscan: IO: ${ioError('write to', 'standard output', e).message}\n`);
  process.exit(1);
});
await main(process.argv);
