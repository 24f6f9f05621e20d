// Wall time to run /bin/true four ways, in interleaved rounds: armorer, raw bwrap with the same
// namespaces, srt (@anthropic-ai/sandbox-runtime), and bare; plus `node -e 0` as a reference.
// Reports goals; never fails the build.
//   node --import tsx bench/exec/run.ts [--runs N] [--warmup N] [--files N]
// --files N fills the workspace with N empty files (100 per directory) first: armorer's per-run
// work on the workspace (ACL grant and restore, chown-back walk) grows with it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, goalLine, machineLine, parseFlags, stats, table, timeSpawn, type Sample } from '../lib/measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const SRT = join(ROOT, 'node_modules/.bin/srt');
const SANDBOX_USER = 'armorer-sandbox'; // armorer's default sandbox.user (src/sandbox/bwrap/identity.ts)
const BUDGET_MS = 100_000; // no new round starts after this; keeps a run under ~2 minutes
const GOAL_OVERHEAD_MS = 60;

interface Contender {
  name: string;
  argv: string[];
  /** Set when the contender cannot run here; it is then reported, not measured. */
  unavailable?: string;
  samples: number[];
  failures: number;
  lastError: string;
}

const { runs, warmup, files } = parseFlags(process.argv.slice(2), {
  runs: { default: 20, min: 1, max: 500 }, warmup: { default: 2, max: 10 }, files: { default: 0, max: 100_000 },
});
const isRoot = process.getuid?.() === 0;
const workspace = mkdtempSync(join(tmpdir(), 'armorer-bench-exec-'));
const srtSettings = join(mkdtempSync(join(tmpdir(), 'armorer-bench-srt-')), 'srt-settings.json');
// No allowed domains: srt's proxies (which listen on loopback) refuse everything.
writeFileSync(srtSettings, JSON.stringify({
  network: { allowedDomains: [], deniedDomains: [] },
  filesystem: { denyRead: [], allowWrite: ['.'], denyWrite: [] },
}));

function userExists(name: string): boolean {
  return readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.split(':')[0] === name);
}

const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].find((p) => existsSync(p));
const rawBwrapArgs = [
  '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try',
  '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
  '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
  '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '/bin/true',
];
// As root armorer runs bwrap as its sandbox user, so the baseline does the same.
const rawAsUser = isRoot && userExists(SANDBOX_USER);
const rawArgv = rawAsUser
  ? ['/usr/bin/setpriv', `--reuid=${SANDBOX_USER}`, `--regid=${SANDBOX_USER}`, '--clear-groups', BWRAP ?? 'bwrap', ...rawBwrapArgs]
  : [BWRAP ?? 'bwrap', ...rawBwrapArgs];

const contenders: Contender[] = [
  { name: 'armorer', argv: [process.execPath, CLI, 'exec', '--', '/bin/true'] },
  { name: 'raw bwrap', argv: rawArgv },
  { name: 'srt', argv: [SRT, '--settings', srtSettings, '/bin/true'] },
  { name: 'bare /bin/true', argv: ['/bin/true'] },
  // Not a contender: the floor any Node CLI pays before its first line runs.
  { name: 'node -e 0 (ref)', argv: [process.execPath, '-e', '0'] },
].map((c) => ({ ...c, samples: [], failures: 0, lastError: '' }));

const byName = (n: string) => contenders.find((c) => c.name === n)!;
if (!existsSync(CLI)) byName('armorer').unavailable = `${CLI} is missing: run "npm run build" first`;
if (!BWRAP) byName('raw bwrap').unavailable = 'bwrap is not installed';
if (!existsSync(SRT)) byName('srt').unavailable = `${SRT} is missing: run "npm install"`;
if (isRoot && !rawAsUser) byName('raw bwrap').unavailable = `running as root but user ${SANDBOX_USER} does not exist (run armorer once)`;

const once = (c: Contender): Sample => timeSpawn(c.argv, { cwd: workspace });

function measure(): number {
  for (let i = 0; i < files; i++) {
    const dir = join(workspace, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir);
    writeFileSync(join(dir, `f${i % 100}`), '');
  }
  // One try each decides whether a contender can run here at all (srt may lack a dependency).
  for (const c of contenders) {
    if (c.unavailable) continue;
    const s = once(c);
    if (s.status !== 0) c.unavailable = `exit ${s.status}: ${s.stderr.trim().split('\n').slice(-3).join(' | ') || '(no stderr)'}`;
  }
  const live = contenders.filter((c) => !c.unavailable);
  for (let i = 0; i < warmup; i++) for (const c of live) once(c);

  const started = Date.now();
  let done = 0;
  for (let round = 0; round < runs && Date.now() - started < BUDGET_MS; round++) {
    // Rotate the order each round so no contender always runs right after another.
    for (let k = 0; k < live.length; k++) {
      const c = live[(round + k) % live.length]!;
      const s = once(c);
      if (s.status === 0) c.samples.push(s.ms);
      else { c.failures++; c.lastError = s.stderr.trim().split('\n').pop() ?? ''; }
    }
    done++;
  }
  return done;
}

let done = 0;
try {
  done = measure();
} finally {
  rmSync(workspace, { recursive: true, force: true });
  rmSync(dirname(srtSettings), { recursive: true, force: true });
}

const st = Object.fromEntries(contenders.map((c) => [c.name, stats(c.samples)]));
console.log('armorer exec benchmark: wall time of `/bin/true`, spawn to reap (ms)');
console.log(machineLine());
console.log(`rounds: ${done} of ${runs} requested (interleaved, order rotated), warmup ${warmup} each` +
  (done < runs ? `; stopped at the ${BUDGET_MS / 1000}s budget` : ''));
console.log(`workspace (cwd of every run): a fresh temp dir with ${files} files`);
console.log(`running as ${isRoot ? 'root' : `uid ${process.getuid?.()}`}: armorer ${isRoot ? `drops to ${SANDBOX_USER}` : 'runs as this user'}; ` +
  `raw bwrap ${rawAsUser ? `runs as ${SANDBOX_USER} via setpriv` : 'runs as this user'}; srt runs as this user`);
console.log('');
console.log(table(['', 'median', 'p90', 'min', 'max', 'n', 'fail'], contenders.map((c) => {
  const s = st[c.name]!;
  return c.unavailable
    ? [c.name, 'n/a', 'n/a', 'n/a', 'n/a', '0', '-']
    : [c.name, fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max), String(s.n), String(c.failures)];
})));
for (const c of contenders) {
  if (c.unavailable) console.log(`\n${c.name}: not measured: ${c.unavailable}`);
  else if (c.failures) console.log(`\n${c.name}: ${c.failures} failed run(s), last: ${c.lastError}`);
}

const a = st['armorer']!;
const raw = st['raw bwrap']!;
const srt = st['srt']!;
const bare = st['bare /bin/true']!;
const node = st['node -e 0 (ref)']!;
console.log('');
console.log(`armorer / srt (median):                    ${(a.median / srt.median).toFixed(2)}x`);
console.log(`armorer - raw bwrap (median):              ${fmt(a.median - raw.median)} ms`);
console.log(`armorer - raw bwrap (min):                 ${fmt(a.min - raw.min)} ms`);
console.log(`raw bwrap - bare /bin/true (median):       ${fmt(raw.median - bare.median)} ms`);
console.log(`armorer - raw bwrap - node -e 0 (median):  ${fmt(a.median - raw.median - node.median)} ms (overhead beyond Node's own start)`);
console.log('');
const verdict = (ok: boolean, measurable: boolean, text: string) =>
  measurable ? goalLine(ok, text) : `SKIP  ${text} (not measurable here)`;
console.log(verdict(a.median <= srt.median, a.n > 0 && srt.n > 0,
  `armorer median <= srt median (${fmt(a.median)} vs ${fmt(srt.median)} ms)`));
console.log(verdict(a.median - raw.median <= GOAL_OVERHEAD_MS, a.n > 0 && raw.n > 0,
  `armorer overhead over raw bwrap <= ${GOAL_OVERHEAD_MS} ms (median ${fmt(a.median - raw.median)} ms)`));
