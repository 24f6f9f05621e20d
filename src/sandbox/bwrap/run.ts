import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { Bridge } from '../../egress/bridge.js';
import { ArmorerError } from '../../core/errors.js';
import { probeCgroups, RunCgroup } from '../cgroups.js';
import { planLimits } from '../limits.js';
import { buildSeccompFilter } from '../seccomp.js';
import type { SandboxSpec } from '../spec.js';
import { AclGrants } from './acl.js';
import { bwrapArgs, dataSources } from './args.js';
import { hostIdentity } from './identity.js';
import { findTool, requireBwrap, SYSTEM_PATH, userNamespacesEnabled } from './locate.js';
import { cleanupPlaceholders, planProtection } from './protect.js';

export interface RunOptions {
  /** Where ACL holds live (`$ARMORER_HOME/run/acl`). */
  stateDir: string;
  stdin?: 'inherit' | 'ignore';
  stdout: Writable;
  stderr: Writable;
  /** Lines for the person at the terminal (limit notices, timeouts). */
  notice?: (line: string) => void;
  sandboxUser?: string;
  /** Required when the spec's network mode is `proxy`: where the bridge's sockets go. */
  egress?: {
    onConnection(socket: Socket): void;
    /** Called once the bridge is up, before the command starts (for --publish). */
    onBridge?(bridge: Bridge): Promise<void> | void;
  };
}

export interface RunResult {
  exitCode: number;
  /** Signal that ended the command, when it died of one. */
  signal?: string;
  timedOut: boolean;
  oomKills: number;
  durationMs: number;
}

const KILL_GRACE_MS = 3000;

/** Runs one spec under bubblewrap and returns when everything it started is gone. */
export async function runInBwrap(spec: SandboxSpec, opts: RunOptions): Promise<RunResult> {
  const bwrap = requireBwrap();
  const userns = userNamespacesEnabled();
  if (!userns.ok) {
    throw new ArmorerError('ARMORER_E_USERNS', `user namespaces are not usable: ${userns.why}`,
      'enable them (sysctl -w kernel.unprivileged_userns_clone=1 / user.max_user_namespaces=15000), or use another backend');
  }
  const seccomp = buildSeccompFilter(spec.seccomp);
  const identity = hostIdentity(opts.sandboxUser);
  const cgroupSupport = probeCgroups();
  const plan = planLimits(spec, cgroupSupport);
  for (const n of plan.notices) opts.notice?.(n);

  const protect = planProtection(spec.protectedPaths);
  const started = Date.now();
  const runId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  let cgroup: RunCgroup | null = null;
  let acl: AclGrants | null = null;
  let bridge: Bridge | null = null;
  try {
    if (spec.network.mode === 'proxy') {
      if (!opts.egress) {
        throw new ArmorerError('ARMORER_E_BRIDGE', 'this run needs network egress but no proxy was given', 'this is a bug: report it');
      }
      // The bridge (and so the sandbox's network namespace) exists before the sandbox: the
      // command's first request can never race it.
      bridge = await Bridge.start({ port: spec.network.proxyPort, identity, onConnection: opts.egress.onConnection });
      await opts.egress.onBridge?.(bridge);
    }
    if (plan.cgroup) cgroup = RunCgroup.create(cgroupSupport, runId, plan.cgroup);
    if (identity.dropped) {
      // A read-write mount elsewhere than its own path is an agent's persistent home.
      acl = AclGrants.grant(spec.mounts.flatMap((m) => m.kind === 'rw' || (m.kind === 'ro' && m.source === m.target)
        ? [{ path: m.source, mode: m.kind }] : []), identity.uid, join(opts.stateDir, 'acl'));
    }
    const data = dataSources(spec, protect);
    // bwrap reads its arguments from fd 6: --setenv values and paths never show in `ps` on the host.
    const fds = { seccomp: 3, info: 4, ready: 5, firstData: 7 };
    const args = bwrapArgs(spec, protect, fds);
    // Options go through the fd; the command (after --) must stay on argv, where bwrap wants it.
    const split = args.indexOf('--');
    const argv = launcherArgv(bwrap, ['--args', '6', ...args.slice(split)], plan.rlimits, cgroup, identity, bridge?.holderPid);
    return await supervise(argv, { seccomp: seccomp.bytes, args, data }, spec, cgroup, opts, started);
  } finally {
    bridge?.stop();
    cgroup?.destroy();
    cleanupPlaceholders(protect);
    acl?.release();
  }
}

/**
 * sh joins the cgroup (its own pid, so every later process starts inside), then execs
 * setpriv (parent-death signal; as root, drop to the sandbox uid) -> prlimit (rlimits) -> bwrap.
 * No process of the run ever exists outside its cgroup, with the caller's privileges, or after
 * the supervisor is gone.
 */
function launcherArgv(bwrap: string, args: string[], rlimits: string[], cg: RunCgroup | null,
  id: ReturnType<typeof hostIdentity>, netHolder?: number): string[] {
  const setpriv = findTool('setpriv');
  const prlimit = findTool('prlimit');
  if (!setpriv || !prlimit) {
    throw new ArmorerError('ARMORER_E_SPAWN', 'setpriv and prlimit (util-linux) are needed to start a sandbox',
      'apt-get install util-linux');
  }
  // bwrap's --die-with-parent covers the sandbox side only; --pdeathsig ties the outer bwrap
  // process to this supervisor, set after the uid change (which would clear it) and kept across
  // the execs of prlimit and bwrap (neither is set-uid).
  const tail = [setpriv, '--pdeathsig', 'KILL'];
  if (id.dropped) tail.push(`--reuid=${id.uid}`, `--regid=${id.gid}`, '--clear-groups', '--inh-caps=-all');
  // The parent-death signal is armed only now: if the supervisor died before this point, this
  // process was re-parented and must not go on to start a sandbox nobody will stop.
  tail.push('--', '/bin/sh', '-c', '[ "$PPID" = "$0" ] || exit 125; exec "$@"', String(process.pid));
  tail.push(prlimit, ...rlimits, '--');
  if (netHolder !== undefined) {
    const nsenter = findTool('nsenter');
    if (!nsenter) throw new ArmorerError('ARMORER_E_BRIDGE', 'nsenter (util-linux) is missing', 'apt-get install util-linux');
    tail.push(nsenter, '--preserve-credentials', `--user=/proc/${netHolder}/ns/user`, `--net=/proc/${netHolder}/ns/net`, '--');
  }
  tail.push(bwrap, ...args);
  if (!cg) return tail;
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
  return ['/bin/sh', '-c', script, 'armorer-join', ...cg.procsFiles, '--', ...tail];
}

interface Inputs { seccomp: Buffer; args: string[]; data: string[] }

function supervise(argv: string[], inputs: Inputs, spec: SandboxSpec, cgroup: RunCgroup | null,
  opts: RunOptions, started: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    closeInheritedFds();
    const child = spawn(argv[0]!, argv.slice(1), {
      // bwrap's own environment is visible inside as /proc/1/environ: give it nothing of ours.
      env: { PATH: SYSTEM_PATH },
      stdio: [opts.stdin ?? 'inherit', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...inputs.data.map(() => 'pipe' as const)],
    });
    const extra = child.stdio as unknown as (Writable & Readable)[];
    for (let i = 3; i < extra.length; i++) extra[i]!.on('error', () => {});
    extra[3]!.end(inputs.seccomp);
    extra[6]!.end(inputs.args.slice(0, inputs.args.indexOf('--')).map((a) => `${a}\0`).join(''));
    inputs.data.forEach((content, i) => extra[7 + i]!.end(content));
    let info = '';
    let commandStarted = false;
    extra[4]!.on('data', (b: Buffer) => { info += b.toString(); });
    extra[5]!.on('data', () => { commandStarted = true; });
    child.stdout!.pipe(opts.stdout, { end: false });
    child.stderr!.pipe(opts.stderr, { end: false });
    let stderrTail = '';
    child.stderr!.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString()).slice(-2048); });

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const commandGroup = (): number | null => {
      const m = /"child-pid"\s*:\s*(\d+)/.exec(info);
      if (!m) return null;
      // bwrap's init is child-pid and the command its child; --new-session leaves the command in
      // a group whose id (host view) is field 5 of its stat. The init ignores what it has no
      // handler for, so signalling the whole group reaches the command and its children only.
      try {
        const kid = readFileSync(`/proc/${m[1]}/task/${m[1]}/children`, 'utf8').trim().split(/\s+/)[0];
        if (!kid) return null;
        const stat = readFileSync(`/proc/${kid}/stat`, 'utf8');
        const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        return pgrp > 1 ? pgrp : null;
      } catch {
        return null;
      }
    };
    const hardKill = () => {
      child.kill('SIGKILL');
      cgroup?.destroy();
    };
    const forward = (sig: NodeJS.Signals) => {
      const pgid = commandGroup();
      try {
        if (pgid) process.kill(-pgid, sig);
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      killTimer ??= setTimeout(hardKill, KILL_GRACE_MS);
    };
    const onSignal = (sig: NodeJS.Signals) => {
      if (killTimer) hardKill(); // a second Ctrl-C means now
      else forward(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    const timeout = spec.limits.timeoutSeconds
      ? setTimeout(() => {
        timedOut = true;
        opts.notice?.(`time limit of ${spec.limits.timeoutSeconds}s reached: stopping the sandbox [ARMORER_E_TIMEOUT]`);
        forward('SIGTERM');
      }, spec.limits.timeoutSeconds * 1000)
      : undefined;

    child.on('error', (e) => reject(new ArmorerError('ARMORER_E_SPAWN', `cannot start the sandbox: ${e.message}`,
      'run "armorer doctor" to see what is missing')));
    child.on('close', (code, signal) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      clearTimeout(timeout);
      clearTimeout(killTimer);
      const oomKills = cgroup?.oomKills() ?? 0;
      // Like timeout(1): 124 says "stopped by the time limit", whatever the command did with SIGTERM.
      const exitCode = timedOut ? 124 : code ?? 128 + signalNumber(signal);
      const result: RunResult = { exitCode, timedOut, oomKills, durationMs: Date.now() - started };
      const raw = code ?? 128 + signalNumber(signal);
      if (raw > 128 && raw < 160) result.signal = signalName(raw - 128);
      if (code === 125 && cgroup && info === '') {
        reject(new ArmorerError('ARMORER_E_CGROUP', 'could not join the run\'s cgroup', 'run "armorer doctor"'));
        return;
      }
      // bwrap reports its own set-up failures as "bwrap: ..." and exit 1: that is not the command's.
      const setup = code === 1 && !commandStarted ? /(?:^|\n)bwrap: ([^\n]*)\n?$/.exec(stderrTail) : null;
      if (setup) {
        reject(new ArmorerError('ARMORER_E_SPAWN', `bubblewrap could not set up the sandbox: ${setup[1]}`,
          'run "armorer doctor"; check that every granted path exists and is readable'));
        return;
      }
      resolve(result);
    });
  });
}

/**
 * Descriptors this process inherited without close-on-exec would pass through setpriv, prlimit
 * and bwrap into the sandbox. Node opens its own with close-on-exec, so any other one above 2 is
 * an inheritance from whoever started Armorer: close it.
 */
function closeInheritedFds(): void {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fdinfo');
  } catch {
    return;
  }
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) closeSync(fd);
    } catch { /* raced with a close */ }
  }
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (constants.signals as Record<string, number>)[sig] ?? 9 : 0;
}

function signalName(n: number): string | undefined {
  const sigs = constants.signals as Record<string, number>;
  return Object.keys(sigs).find((k) => sigs[k] === n);
}
