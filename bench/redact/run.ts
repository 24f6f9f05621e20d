// Throughput of the streaming redactor against @secretlint/core with its recommended preset, on
// the same input: --size-mib MiB of generated agent output (bench/redact/corpus.ts) with 100
// secrets and provider tokens planted at known places. Rounds are interleaved. Reports goals;
// never fails the build.
//   node --import tsx bench/redact/run.ts [--size-mib 32] [--rounds 5] [--secrets 100] [--secretlint-mib 0]
// The redactor is fed 64 KiB Buffers (as output arrives from a child process) and its output is
// consumed (counted, not kept); secretlint lints the whole text as one source (its API does not
// stream), or only the first --secretlint-mib MiB of it when that flag is non-zero (MB/s either way).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redactor } from '../../src/secrets/redact/index.js';
import { buildCorpus } from './corpus.js';
import { goalLine, machineLine, parseFlags, stats, table } from '../lib/measure.js';

const GOAL_RATIO = 10;
const CHUNK = 64 * 1024;
const BUDGET_MS = 150_000; // no new round starts after this

const flags = parseFlags(process.argv.slice(2), {
  'size-mib': { default: 32, min: 1, max: 512 }, rounds: { default: 5, min: 1, max: 20 },
  secrets: { default: 100, min: 0, max: 1000 }, 'secretlint-mib': { default: 0, max: 512 },
});

const t0 = process.hrtime.bigint();
const corpus = buildCorpus(flags['size-mib'] * 1024 * 1024, flags.secrets);
const input = Buffer.from(corpus.text, 'utf8');
const chunks: Buffer[] = [];
for (let i = 0; i < input.length; i += CHUNK) chunks.push(input.subarray(i, i + CHUNK));
const genMs = Number(process.hrtime.bigint() - t0) / 1e6;

const slBytes = flags['secretlint-mib'] > 0 ? Math.min(input.length, flags['secretlint-mib'] * 1024 * 1024) : input.length;
const slText = slBytes === input.length ? corpus.text : input.subarray(0, slBytes).toString('utf8');

const { lintSource } = await import('@secretlint/core');
const { creator } = await import('@secretlint/secretlint-rule-preset-recommend');
const lint = (content: string) => lintSource({
  source: { content, filePath: '/bench/agent-output.txt', ext: '.txt', contentType: 'text' },
  options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] } },
});

const c1 = process.hrtime.bigint();
const optsAll = { secrets: corpus.secrets };
new Redactor(optsAll); // compile once, outside the timed runs (compiled indexes are reused per options object)
const compileMs = Number(process.hrtime.bigint() - c1) / 1e6;
const optsPatterns = { secrets: [] };

/** MB/s by wall time, and by this process's CPU time (less disturbed by other work on the machine). */
interface Row { name: string; bytes: number; mbps: number[]; cpuMbps: number[]; detections: number; byRule?: Map<string, number> }
const rows: Row[] = [
  { name: `redactor: ${corpus.secrets.length} secrets + patterns`, bytes: input.length, mbps: [], cpuMbps: [], detections: 0 },
  { name: 'redactor: patterns only', bytes: input.length, mbps: [], cpuMbps: [], detections: 0 },
  { name: 'secretlint recommend preset', bytes: slBytes, mbps: [], cpuMbps: [], detections: 0 },
];

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

// A full collection before each timed run, so that no contender pays for another's garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function runRedactor(row: Row, opts: { secrets: { name: string; value: string }[] }): void {
  const r = new Redactor(opts);
  collectGarbage();
  let outLen = 0; // the output is consumed (as a terminal or log writer would), not kept
  const s = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const c of chunks) outLen += r.push(c).length;
  outLen += r.flush().length;
  row.cpuMbps.push(row.bytes / 1e6 / cpuSeconds(process.cpuUsage(cpu)));
  const sec = Number(process.hrtime.bigint() - s) / 1e9;
  row.mbps.push(row.bytes / 1e6 / sec);
  row.detections = r.count;
  if (outLen === 0) throw new Error('the redactor wrote nothing');
}

/** An untimed run whose output is kept: the leak check, and a warm-up for the JIT. */
function redactAll(opts: { secrets: { name: string; value: string }[] }): string {
  const r = new Redactor(opts);
  return chunks.map((c) => r.push(c)).join('') + r.flush();
}

async function runSecretlint(row: Row): Promise<void> {
  collectGarbage();
  const s = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await lint(slText);
  row.cpuMbps.push(row.bytes / 1e6 / cpuSeconds(process.cpuUsage(cpu)));
  const sec = Number(process.hrtime.bigint() - s) / 1e9;
  row.mbps.push(row.bytes / 1e6 / sec);
  row.detections = result.messages.length;
  row.byRule = new Map();
  for (const m of result.messages) row.byRule.set(m.ruleId, (row.byRule.get(m.ruleId) ?? 0) + 1);
}

// Warm-up, untimed: secretlint once on a slice, the redactor twice on the whole input (V8 needs
// that long to reach its optimising tier on this code).
const redacted = redactAll(optsAll);
redactAll(optsPatterns);
redactAll(optsAll);
redactAll(optsPatterns);
await lint(input.subarray(0, Math.min(input.length, 4 * 1024 * 1024)).toString('utf8'));

const started = Date.now();
let done = 0;
for (let round = 0; round < flags.rounds && Date.now() - started < BUDGET_MS; round++) {
  // Rotate the order so no contender always runs right after another (GC, CPU frequency).
  const order = [() => runRedactor(rows[0]!, optsAll), () => runRedactor(rows[1]!, optsPatterns), () => runSecretlint(rows[2]!)];
  for (let k = 0; k < order.length; k++) await order[(round + k) % order.length]!();
  done++;
}

// Correctness on the side: nothing planted may survive the redactor.
const leaked = corpus.planted.filter((p) => redacted.includes(p.value));
const plantedSecrets = corpus.planted.filter((p) => p.kind.startsWith('secret:')).length;
const plantedTokens = corpus.planted.length - plantedSecrets;

console.log('armorer redaction benchmark: throughput on the same input (MB/s, 1 MB = 10^6 bytes)');
console.log(machineLine());
console.log(`input: ${(input.length / 1e6).toFixed(1)} MB generated in ${genMs.toFixed(0)} ms (logs, JSON, code, base64, hashes, certificates, prose); ` +
  `${corpus.planted.length} planted: ${plantedSecrets} secret values (raw, base64, URL, hex, JSON forms) and ${plantedTokens} provider tokens`);
console.log(`redactor: ${corpus.secrets.length} secrets (${compileMs.toFixed(0)} ms to build the index), all patterns, 64 KiB Buffer writes`);
console.log(`secretlint: @secretlint/core lintSource, ${slBytes === input.length ? 'the whole input as one source' : `the first ${(slBytes / 1e6).toFixed(1)} MB`}`);
console.log(`rounds: ${done} of ${flags.rounds} (interleaved, order rotated), after untimed warm-ups`);
console.log('');
console.log(table(['', 'median MB/s', 'min', 'max', 'CPU MB/s', 'n', 'detections'], rows.map((r) => {
  const st = stats(r.mbps);
  return [r.name, st.median.toFixed(1), st.min.toFixed(1), st.max.toFixed(1), stats(r.cpuMbps).median.toFixed(1), String(st.n), String(r.detections)];
})));
console.log('');
console.log(`redactor detections: ${rows[0]!.detections} markers for ${corpus.planted.length} planted items; planted items left in its output: ${leaked.length}` +
  (leaked.length ? ` (${[...new Set(leaked.map((l) => l.kind))].join(', ')})` : ''));
console.log(`redactor, patterns only: ${rows[1]!.detections} markers for ${plantedTokens} planted tokens`);
console.log(`secretlint findings by rule: ${[...(rows[2]!.byRule ?? new Map())].map(([k, v]) => `${k.replace('@secretlint/secretlint-rule-', '')} ${v}`).join(', ') || 'none'}`);
const a = stats(rows[0]!.mbps).median;
const p = stats(rows[1]!.mbps).median;
const sl = stats(rows[2]!.mbps).median;
const cpuRatio = stats(rows[0]!.cpuMbps).median / stats(rows[2]!.cpuMbps).median;
console.log(`ratio redactor (secrets + patterns) / secretlint: ${(a / sl).toFixed(1)}x by wall time, ${cpuRatio.toFixed(1)}x by CPU time; ` +
  `patterns only / secretlint: ${(p / sl).toFixed(1)}x`);
console.log('');
console.log(goalLine(a >= GOAL_RATIO * sl, `redactor >= ${GOAL_RATIO}x secretlint (${a.toFixed(1)} vs ${sl.toFixed(1)} MB/s: ${(a / sl).toFixed(1)}x)`));
console.log(goalLine(leaked.length === 0, `no planted secret or token left in the redactor's output (${leaked.length} left)`));
