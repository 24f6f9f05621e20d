import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isArmorerError } from '../../core/errors.js';
import { compilePolicy } from '../../policy/compile.js';
import { defaultPolicy } from '../../policy/types.js';
import type { Limits, LimitName } from '../spec.js';
import type { Guarantee } from '../guarantees.js';
import { probeCgroups } from '../cgroups.js';
import { hostIdentity } from './identity.js';
import { findTool } from './locate.js';
import { runInBwrap, type RunResult } from './run.js';

interface ProbeRun { out: string; result: RunResult | null; error?: string; fix?: string }

/**
 * Runs a shell snippet in a real sandbox, with limits marked as defaults (so fallbacks show). With
 * `egress`, through a real bridge and proxy that has no rules and nobody to approve; its events go
 * to a throwaway directory, not the user's log.
 */
async function probeRun(script: string, limits: Limits, armorerHome: string, sandboxUser: string, egress = false): Promise<ProbeRun> {
  const ws = mkdtempSync(join(tmpdir(), 'armorer-doctor-'));
  let out = '';
  const sink = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  try {
    const spec = compilePolicy(defaultPolicy(), {
      command: ['/bin/sh', '-c', script], workspace: ws, limitFlags: limits, armorerHome, egress,
    });
    for (const k of Object.keys(spec.limitOrigins) as LimitName[]) spec.limitOrigins[k] = 'default';
    if (limits.cpus === undefined) delete spec.limits.cpus;
    const session = egress
      ? await (await import('../../egress/session.js')).startEgress({ agent: 'doctor', grants: [], armorerHome: ws, publish: [],
        allowLoopbackUpstream: false, proxyPort: spec.network.proxyPort, notice: () => {} })
      : null;
    try {
      const result = await runInBwrap(spec, { stateDir: join(armorerHome, 'run'), stdin: 'ignore', stdout: sink, stderr: sink, sandboxUser,
        ...(session && { egress: session.runOptions }) });
      return { out, result };
    } finally {
      await session?.close();
    }
  } catch (e) {
    return { out, result: null, error: isArmorerError(e) ? `${e.message} [${e.code}]` : String(e), ...(isArmorerError(e) && { fix: e.fix }) };
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

const BASE_SCRIPT = `
grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status
echo "NETDEV $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ',')"
set -- /proc/[0-9]*; echo "PIDS $# $(cat /proc/1/comm)"
echo "UID $(id -u)"
if unshare -U true 2>/dev/null; then echo "NESTED_USERNS allowed"; else echo "NESTED_USERNS refused"; fi
[ -e /etc/shadow ] && echo SHADOW visible || echo SHADOW hidden
[ -e "$CALLER_HOME" ] && echo CALLERHOME visible || echo CALLERHOME hidden
if bash -c "exec 3<>/dev/tcp/127.0.0.1/$PROBE_PORT" 2>/dev/null; then echo TCP reached; else echo TCP blocked; fi
`;

export async function probeBwrap(armorerHome: string, sandboxUser: string): Promise<Guarantee[]> {
  const g: Guarantee[] = [];
  const bwrap = findTool('bwrap');
  if (!bwrap) {
    return [{ id: 'bubblewrap', status: 'missing', detail: 'bwrap is not installed', fix: 'apt-get install bubblewrap' }];
  }
  g.push({ id: 'bubblewrap', status: 'ok', detail: execFileSync(bwrap, ['--version']).toString().trim() });

  let connections = 0;
  const server = createServer((s) => { connections++; s.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const script = `CALLER_HOME='${homedir()}' PROBE_PORT=${port}; export CALLER_HOME PROBE_PORT\n${BASE_SCRIPT}`;
  const base = await probeRun(script, {}, armorerHome, sandboxUser);
  server.close();
  if (!base.result || base.result.exitCode !== 0) {
    g.push({ id: 'sandbox start', status: 'missing', detail: base.error ?? `probe exited ${base.result?.exitCode}: ${base.out.trim()}`,
      fix: base.fix ?? 'see the message above' });
    return g;
  }
  const field = (name: string) => new RegExp(`^${name}:?\\s+(.*)$`, 'm').exec(base.out)?.[1]?.trim() ?? '';
  g.push(check('user namespace', field('UID') === '1000' && field('NESTED_USERNS') === 'refused',
    `uid ${field('UID')} inside its own user namespace; creating a nested one (unshare -U): ${field('NESTED_USERNS')}`,
    'enable unprivileged user namespaces; bwrap must support --disable-userns (0.8+)'));
  const [pidCount, init] = field('PIDS').split(' ');
  g.push(check('pid namespace', Number(pidCount) <= 3 && init === 'bwrap',
    `${pidCount} processes visible inside (pid 1 is ${init})`, 'bwrap --unshare-pid failed'));
  const netdev = field('NETDEV');
  g.push(check('network isolation', netdev === 'lo,' && field('TCP') === 'blocked' && connections === 0,
    `interfaces inside: ${netdev.replace(/,$/, '')}; TCP to a host loopback listener: ${field('TCP')} (${connections} connections arrived)`,
    'bwrap --unshare-net failed'));
  g.push(check('filesystem view', field('SHADOW') === 'hidden' && field('CALLERHOME') === 'hidden',
    `/etc/shadow ${field('SHADOW')}, ${homedir()} ${field('CALLERHOME')}`, 'the mount plan leaked host paths: report this'));
  g.push(check('seccomp', field('Seccomp') === '2', `Seccomp: ${field('Seccomp')} (2 = filter), filters: ${field('Seccomp_filters')}`,
    'the kernel needs CONFIG_SECCOMP_FILTER'));
  g.push(check('no_new_privs', field('NoNewPrivs') === '1', `NoNewPrivs: ${field('NoNewPrivs')}`, 'bwrap did not set no_new_privs'));
  const caps = ['CapEff', 'CapPrm', 'CapBnd'].map((c) => `${c} ${field(c)}`);
  g.push(check('capability drop', ['CapEff', 'CapPrm', 'CapBnd'].every((c) => /^0+$/.test(field(c))), caps.join(', '),
    'bwrap --cap-drop ALL failed'));
  if (process.getuid?.() === 0) {
    const id = hostIdentity(sandboxUser, false);
    g.push(check('unprivileged uid', id.dropped && id.uid !== 0, `sandboxed processes run as ${id.name} (uid ${id.uid}), not root`,
      'run "armorer init" as root to create the sandbox user'));
  }
  g.push(...await probeLimits(armorerHome, sandboxUser));
  g.push(await probeEgress(armorerHome, sandboxUser));
  return g;
}

/** A real bridge and proxy: a request from inside must come back as the proxy's own refusal. */
async function probeEgress(armorerHome: string, sandboxUser: string): Promise<Guarantee> {
  const run = await probeRun('curl -s -o /dev/null -D - http://probe.invalid/ | grep -i x-armorer-rule', {}, armorerHome, sandboxUser, true);
  if (/x-armorer-rule: approval\.denied/i.test(run.out)) {
    return { id: 'egress bridge', status: 'ok', detail: 'a request from inside reached only the proxy, which refused it (approval.denied)' };
  }
  return { id: 'egress bridge', status: 'missing', detail: run.error ?? `the proxy was not reached from inside: ${run.out.trim().slice(0, 200)}`,
    fix: run.fix ?? 'install iproute2 and util-linux (unshare, nsenter); user namespaces must be enabled' };
}

async function probeLimits(armorerHome: string, sandboxUser: string): Promise<Guarantee[]> {
  const g: Guarantee[] = [];
  const mem = await probeRun(`awk 'BEGIN { s = "x"; while (length(s) < 268435456) s = s s; print "GREW", length(s) }'`,
    { memoryBytes: 64 * 1024 * 1024 }, armorerHome, sandboxUser);
  const grew = /GREW/.test(mem.out);
  const oom = mem.result?.oomKills ?? 0;
  g.push({ id: 'memory limit', status: grew || !mem.result ? 'missing' : oom > 0 ? 'ok' : 'degraded',
    detail: grew ? 'a 256MiB string grew past a 64MiB limit' : !mem.result ? mem.error ?? 'probe failed'
      : oom > 0 ? `cgroup: a 256MiB allocation was OOM-killed at 64MiB (oom_kill ${oom})`
        : 'per-process RLIMIT_DATA stopped a 256MiB allocation at 64MiB; no cgroup, so not a whole-sandbox limit',
    ...(oom === 0 && { fix: 'run as root (cgroup v1/v2) or delegate a cgroup v2 subtree for a whole-sandbox limit' }) });

  const pids = await probeRun('(i=0; while [ $i -lt 48 ]; do sleep 3 & i=$((i+1)); done) 2>/dev/null; set -- /proc/[0-9]*; echo "SEEN $#"',
    { pids: 24 }, armorerHome, sandboxUser);
  // With a per-user RLIMIT_NPROC the user's other processes count too, so the shell itself may
  // be refused a fork ("Cannot fork"): that is the limit holding, not the probe failing.
  const seen = Number(/SEEN (\d+)/.exec(pids.out)?.[1] ?? (/Cannot fork/.test(pids.out) ? 24 : 99));
  const pidsCgroup = probeCgroups().parents.pids !== undefined;
  g.push({ id: 'pids limit', status: seen > 24 || !pids.result ? 'missing' : pidsCgroup ? 'ok' : 'degraded',
    detail: `limit 24: ${seen} processes existed after trying to start 48, ` +
      (pidsCgroup ? 'by cgroup' : 'by RLIMIT_NPROC (per user, not per sandbox: no writable cgroup)'),
    ...((seen > 24 || !pidsCgroup) && { fix: 'run as root, or delegate a cgroup v2 subtree, for a per-sandbox pids cgroup' }) });

  const cpu = await probeRun(`read -r _ _ _ _ _ _ _ _ _ _ _ _ _ u s cu cs _ < /proc/$$/stat; timeout 1 awk 'BEGIN { while (1) {} }';
read -r _ _ _ _ _ _ _ _ _ _ _ _ _ u2 s2 cu2 cs2 _ < /proc/$$/stat; echo "TICKS $((cu2 + cs2 - cu - cs))"`,
  { cpus: 0.1 }, armorerHome, sandboxUser);
  const ticks = Number(/TICKS (\d+)/.exec(cpu.out)?.[1] ?? -1);
  g.push({ id: 'cpu limit', status: ticks >= 0 && ticks <= 40 ? 'ok' : 'missing',
    detail: ticks < 0 ? cpu.error ?? `probe failed: ${cpu.out.trim()}` : `0.1 cores: a 1s busy loop used ${ticks * 10}ms of CPU`,
    ...(!(ticks >= 0 && ticks <= 40) && { fix: 'a CPU quota needs a cgroup: run as root or delegate a cgroup v2 subtree' }) });
  return g;
}

function check(id: string, ok: boolean, detail: string, fix: string): Guarantee {
  return ok ? { id, status: 'ok', detail } : { id, status: 'missing', detail, fix };
}
