/**
 * Shared pieces of the containment suite: temporary workspaces any user can use, `armorer exec`
 * with a bounded wall time, and the C probes compiled once per test process.
 *
 * Every directory made here lives under /tmp, is 0755 (so the dedicated sandbox user root drops to
 * can reach it) and is removed by `cleanup()`, which each test file registers with `after`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../lib/temp.js';

export const IS_ROOT = process.getuid!() === 0;
export const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');
const FIXTURES = join(import.meta.dirname, 'fixtures');

/** Fresh 0755 directories under /tmp, removed by `cleanup()`. */
export const { tempDir, cleanup } = tempDirs('armorer-ct');

/** A workspace directory: a fresh 0755 directory, or `name` inside `parent`. */
export function workspace(parent?: string, name = 'ws'): string {
  if (!parent) return tempDir('ws');
  const dir = join(parent, name);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return dir;
}


let home: string | undefined;
/** Armorer's own state for this test process, never the caller's ~/.armorer. */
export function armorerHome(): string {
  home ??= tempDir('home');
  return home;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the whole armorer process. */
  ms: number;
  /** The test killed armorer because it ran past `timeoutMs`. */
  killedByTest: boolean;
}

export interface RunOptions {
  /** Added to the minimal environment armorer gets (PATH, HOME, ARMORER_HOME). */
  env?: Record<string, string>;
  /** Extra stdio entries after 0,1,2 (fd 3 onwards in armorer). */
  extraFds?: (number | 'ignore' | 'pipe')[];
  /** SIGKILL armorer after this long; default 30 s. */
  timeoutMs?: number;
  /** Called once armorer is running, e.g. to signal it. */
  onStart?: (child: ReturnType<typeof spawn>, output: { stdout: () => string }) => void;
}

/** Runs `armorer ARGS` and resolves when it exits (or when the test had to kill it). */
export function armorer(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/nonexistent',
    ARMORER_HOME: armorerHome(),
    LANG: 'C', // ASCII quotes in coreutils messages
    ...opts.env,
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env, stdio: ['ignore', 'pipe', 'pipe', ...(opts.extraFds ?? [])],
    });
    let stdout = '';
    let stderr = '';
    let killedByTest = false;
    child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => {
      killedByTest = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, killedByTest });
    });
    opts.onStart?.(child, { stdout: () => stdout });
  });
}

export interface ExecOptions extends RunOptions {
  /** Flags before `--`, e.g. ['--pids', '64']. */
  flags?: string[];
}

/** `armorer exec --workspace WS [flags] -- CMD...` */
export function exec(ws: string, command: string[], opts: ExecOptions = {}): Promise<RunResult> {
  return armorer(['exec', '--workspace', ws, ...(opts.flags ?? []), '--', ...command], opts);
}

/** `armorer exec ... -- sh -c SCRIPT` */
export function sh(ws: string, script: string, opts: ExecOptions = {}): Promise<RunResult> {
  return exec(ws, ['sh', '-c', script], opts);
}

let built: string | undefined;
/** Compiles the fixtures once per test process. */
function buildProbes(): string {
  if (built) return built;
  const dir = tempDir('probes');
  execFileSync('gcc', ['-O1', '-Wall', '-o', join(dir, 'probe'), join(FIXTURES, 'probe.c')], { stdio: 'pipe' });
  execFileSync('gcc', ['-O1', '-Wall', '-shared', '-fPIC', '-o', join(dir, 'euid-preload.so'),
    join(FIXTURES, 'euid-preload.c')], { stdio: 'pipe' });
  built = dir;
  return dir;
}

/** Copies a compiled probe (`probe` or `euid-preload.so`) into the workspace; returns its path. */
export function probeIn(ws: string, name: 'probe' | 'euid-preload.so' = 'probe'): string {
  const dest = join(ws, name);
  copyFileSync(join(buildProbes(), name), dest);
  chmodSync(dest, 0o755);
  return dest;
}

/** Runs the probe on the host, outside any sandbox: the positive control for a probe's verdict. */
export function probeOnHost(args: string[]): string {
  try {
    return execFileSync(join(buildProbes(), 'probe'), args, { encoding: 'utf8', timeout: 10_000 });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
}

/** Host pids whose command line contains `marker`. */
export function hostPidsWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

export function marker(): string {
  return `${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
