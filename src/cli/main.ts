#!/usr/bin/env node
// Kept tiny on purpose: `armorer --version` must not pay for loading anything else.
import { readFileSync } from 'node:fs';

// dist/cli/main.js and src/cli/main.ts both sit two levels below package.json.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const argv = process.argv.slice(2);
// `armorer logs | head`: a reader that went away is the end of the output, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv, version);
}
