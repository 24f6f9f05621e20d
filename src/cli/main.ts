#!/usr/bin/env node
// Kept tiny on purpose: `armorer --version` must not pay for loading anything else.
import { readFileSync } from 'node:fs';

// dist/cli/main.js and src/cli/main.ts both sit two levels below package.json.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv, version);
}
