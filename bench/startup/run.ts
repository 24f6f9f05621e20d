// Cold start of the CLI: `armorer --version` against bare `node -e 0`, interleaved in one run.
// Reports the goal; never fails the build.
//   node --import tsx bench/startup/run.ts [--runs N] [--warmup N]
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, goalLine, machineLine, parseFlags, stats, table, timeSpawn } from '../lib/measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const GOAL_MEDIAN_MS = 120;
const BUDGET_MS = 100_000;

const { runs, warmup } = parseFlags(process.argv.slice(2), {
  runs: { default: 30, min: 1, max: 1000 }, warmup: { default: 3, max: 20 },
});
if (!existsSync(CLI)) {
  console.log(`${CLI} is missing: run "npm run build" first`);
  process.exit(0);
}

const contenders = [
  { name: 'armorer --version', argv: [process.execPath, CLI, '--version'], samples: [] as number[], failures: 0, lastError: '' },
  { name: 'node -e 0', argv: [process.execPath, '-e', '0'], samples: [] as number[], failures: 0, lastError: '' },
];
for (let i = 0; i < warmup; i++) for (const c of contenders) timeSpawn(c.argv);

const started = Date.now();
let done = 0;
for (let round = 0; round < runs && Date.now() - started < BUDGET_MS; round++) {
  for (let k = 0; k < contenders.length; k++) {
    const c = contenders[(round + k) % contenders.length]!;
    const s = timeSpawn(c.argv);
    if (s.status === 0) c.samples.push(s.ms);
    else { c.failures++; c.lastError = s.stderr.trim().split('\n').pop() ?? ''; }
  }
  done++;
}

const [cli, node] = contenders.map((c) => stats(c.samples)) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
console.log('armorer startup benchmark: wall time, spawn to reap (ms)');
console.log(machineLine());
console.log(`rounds: ${done} of ${runs} requested (interleaved, order rotated), warmup ${warmup} each`);
console.log('');
console.log(table(['', 'median', 'p90', 'min', 'max', 'n', 'fail'], contenders.map((c, i) => {
  const s = i === 0 ? cli : node;
  return [c.name, fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max), String(s.n), String(c.failures)];
})));
for (const c of contenders) if (c.failures) console.log(`\n${c.name}: ${c.failures} failed run(s), last: ${c.lastError}`);
console.log('');
console.log(`armorer --version / node -e 0 (median): ${(cli.median / node.median).toFixed(2)}x`);
console.log(`armorer --version - node -e 0 (median): ${fmt(cli.median - node.median)} ms`);
console.log('');
console.log(cli.n > 0
  ? goalLine(cli.median <= GOAL_MEDIAN_MS, `armorer --version median <= ${GOAL_MEDIAN_MS} ms (${fmt(cli.median)} ms)`)
  : `SKIP  armorer --version median <= ${GOAL_MEDIAN_MS} ms (no successful run)`);
