// Shared by the benchmarks: timing one process, order statistics, a plain-text table, flags.
// Benchmarks report; they never fail the build, so nothing here exits non-zero on a missed goal.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { availableParallelism, cpus, release } from 'node:os';

export interface Sample {
  ms: number;
  status: number | null;
  stderr: string;
}

// A loader the caller runs under (tsx, via NODE_OPTIONS) must not slow the Node children measured.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));

/** Wall time of one process from spawn to reap, measured in this process. */
export function timeSpawn(argv: string[], opts: SpawnSyncOptions = {}): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000, env: childEnv, ...opts,
  });
  const t1 = process.hrtime.bigint();
  const stderr = r.error ? String(r.error.message) : (r.stderr ?? '').toString();
  return { ms: Number(t1 - t0) / 1e6, status: r.status, stderr };
}

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length === 0 ? Number.NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, p90: percentile(s, 90), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
}

export const fmt = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(1) : 'n/a');

/** Left-aligned first column, right-aligned numbers. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function goalLine(ok: boolean, text: string): string {
  return `${ok ? 'PASS' : 'FAIL'}  ${text}`;
}

/** Integer flags (`--name N`), each with a default and an upper bound; anything else is an error. */
export function parseFlags<K extends string>(argv: string[], spec: Record<K, { default: number; max: number; min?: number }>):
  Record<K, number> {
  const out = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, (v as { default: number }).default])) as Record<K, number>;
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') as K;
    const value = Number(argv[i + 1]);
    const rule = spec[name];
    if (!argv[i]?.startsWith('--') || !rule || !Number.isInteger(value)) {
      const known = Object.keys(spec).map((k) => `--${k} N`).join(', ');
      throw new Error(`unknown or malformed flag: ${argv.slice(i, i + 2).join(' ')} (known: ${known})`);
    }
    out[name] = Math.min(rule.max, Math.max(rule.min ?? 0, value));
  }
  return out;
}

export function machineLine(): string {
  return `machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? '?'}), Linux ${release()}, node ${process.version}`;
}
