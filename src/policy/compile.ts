import { availableParallelism, homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ArmorerError } from '../core/errors.js';
import { PRELOAD_PATH, proxyPreload } from '../egress/preload.js';
import type { LimitName, LimitOrigin, Limits, Mount, SandboxSpec } from '../sandbox/spec.js';
import { DEFAULT_LIMITS, type Grant, type Policy } from './types.js';
import { pathContains } from './scope.js';
import { SANDBOX_HOME, SANDBOX_USER, systemMounts } from './system-view.js';

/**
 * Relative paths under every writable root that stay read-only and cannot be created: things other
 * programs run or obey later (git hooks and config, direnv, editor task files). A trailing `/`
 * marks a directory.
 */
export const DEFAULT_PROTECTED = ['.git/', '.gitmodules', '.envrc', '.vscode/', '.idea/'];

/**
 * With `sandbox.writableGit`, .git itself is writable but what git runs or obeys is not. The index,
 * modules and worktrees stay writable, so a staged nested repository remains a residual risk.
 */
export const GIT_WRITABLE_PROTECTED = ['.git/hooks/', '.git/config', '.git/info/', '.gitmodules', '.envrc', '.vscode/', '.idea/'];

const SYSTEM_ROOTS = ['/', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc', '/boot', '/var', '/opt', '/srv', '/run', '/home'];

/** Where the egress proxy answers inside the sandbox. */
export const PROXY_PORT = 3128;

export interface CompileOptions {
  /** Start the egress proxy even without net.outbound grants (every host then needs an approval). */
  egress?: boolean;
  command: string[];
  /** Canonical host path. */
  workspace: string;
  /** Grants from `--allow` flags, already parsed. */
  extraGrants?: Grant[];
  /** Limits from flags; they win over the policy. */
  limitFlags?: Limits;
  /** Names from `--env`; same as `env.pass:` grants. */
  envNames?: string[];
  hostEnv?: NodeJS.ProcessEnv;
  /** Armorer's own state: never visible inside any sandbox. */
  armorerHome: string;
  userHome?: string;
  /**
   * An installed agent's own directories (under `$ARMORER_HOME/agents/<name>/`): the only part of
   * Armorer's state a sandbox may see. Its workspace may lie there, its prefix is mounted (read-only
   * for runs, writable for installs) and its private home replaces the throwaway HOME.
   */
  agent?: AgentDirs;
}

export interface AgentDirs {
  /** `$ARMORER_HOME/agents/<name>`. */
  dir: string;
  /** Extra host directories inside `dir` with their access. */
  mounts: { source: string; kind: 'ro' | 'rw'; why: string }[];
  /** The shared download cache for installs (read-write). */
  cache?: string;
  /** Host directory mounted read-write as the sandbox HOME (persistent agent home). */
  home?: string;
}

export function compilePolicy(policy: Policy, opts: CompileOptions): SandboxSpec {
  const hostEnv = opts.hostEnv ?? process.env;
  const userHome = opts.userHome ?? homedir();
  const grants = [...policy.grants, ...(opts.extraGrants ?? [])];
  if (opts.agent) checkAgentDirs(opts.agent, opts.armorerHome, opts.workspace, userHome);
  else checkWorkspace(opts.workspace, userHome, opts.armorerHome);

  const fileMounts: Mount[] = [
    { kind: 'rw', source: opts.workspace, target: opts.workspace, why: 'workspace' },
    ...(opts.agent?.mounts ?? []).map((m): Mount => ({ kind: m.kind, source: m.source, target: m.source, why: m.why })),
    ...(opts.agent?.cache ? [{ kind: 'rw' as const, source: opts.agent.cache, target: opts.agent.cache, why: 'the download cache shared by installs' }] : []),
  ];
  const envNames = new Set(opts.envNames ?? []);
  const allowHosts: SandboxSpec['network']['allowHosts'] = [];
  for (const g of grants) {
    const s = g.scope;
    if (s.kind === 'files.read' || s.kind === 'files.write') {
      if (pathContains(s.path, opts.armorerHome) || pathContains(opts.armorerHome, s.path)) {
        throw new ArmorerError('ARMORER_E_PATH',
          `grant "${g.text}" would expose Armorer's own state (${opts.armorerHome}) to the sandbox`,
          'grant a narrower directory that does not contain or lie inside $ARMORER_HOME');
      }
      const kind = s.kind === 'files.write' ? 'rw' : 'ro';
      fileMounts.push({ kind, source: s.path, target: s.path, why: `${g.text} (${g.because})` });
    } else if (s.kind === 'env.pass') {
      envNames.add(s.name);
    } else if (s.kind === 'net.outbound') {
      allowHosts.push(s.port === undefined ? { host: s.host } : { host: s.host, port: s.port });
    }
  }
  // Deeper paths mount later, so a read-only grant inside a writable one stays read-only.
  fileMounts.sort((a, b) => depth(a.target) - depth(b.target));

  const writableRoots = fileMounts.filter((m) => m.kind === 'rw').map((m) => m.target);
  const base = policy.sandbox.writableGit ? GIT_WRITABLE_PROTECTED : DEFAULT_PROTECTED;
  const protectedRel = [...new Set([...base, ...policy.sandbox.protect])];
  const protectedPaths = writableRoots.flatMap((root) => protectedRel.map((rel) => ({ root, rel })));

  const { limits, limitOrigins } = mergeLimits(policy, opts.limitFlags ?? {});
  // The proxy exists only when the policy names a host or a secret binding, or the caller asks for
  // egress (approvals for every host); otherwise the sandbox has no network at all.
  const egress = opts.egress === true || allowHosts.length > 0 || grants.some((g) => g.scope.kind === 'secrets.access');
  return {
    command: opts.command,
    workspace: opts.workspace,
    cwd: opts.workspace,
    home: SANDBOX_HOME,
    mounts: [...withHome(systemMounts(limits.memoryBytes ?? DEFAULT_LIMITS.memoryBytes), opts.agent?.home), ...fileMounts, ...(egress ? preloadMount() : [])],
    protectedPaths,
    env: { ...sandboxEnv(hostEnv, envNames), ...(egress ? proxyEnv(PROXY_PORT, hostEnv['NODE_OPTIONS'], envNames) : {}) },
    network: { mode: egress ? 'proxy' : 'none', allowHosts, proxyPort: PROXY_PORT },
    limits,
    limitOrigins,
    seccomp: { allowUnixSockets: policy.sandbox.unixSockets },
  };
}

function checkWorkspace(ws: string, userHome: string, armorerHome: string): void {
  const why = SYSTEM_ROOTS.includes(ws)
    ? 'it is a system directory'
    : pathContains(ws, userHome)
      ? `it contains your home directory (${userHome}), with your keys and dotfiles`
      : pathContains(ws, armorerHome) || pathContains(armorerHome, ws)
        ? `it overlaps Armorer's own state (${armorerHome})`
        : null;
  if (why) {
    throw new ArmorerError('ARMORER_E_WORKSPACE', `the workspace ${ws} is writable inside the sandbox, and ${why}`,
      'run from a project directory, or pass --workspace DIR naming one');
  }
}

/**
 * Agent directories are the one exception to "nothing of $ARMORER_HOME is visible": each must lie
 * inside this agent's own directory (or the shared download cache), never hold audit, keys or secrets.
 */
function checkAgentDirs(agent: AgentDirs, armorerHome: string, workspace: string, userHome: string): void {
  const agentsRoot = `${armorerHome}/agents`;
  // The containment checks below compare text, so `agents/x/../../keys` must not reach them.
  for (const p of [agent.dir, workspace, ...agent.mounts.map((m) => m.source), ...(agent.home ? [agent.home] : []), ...(agent.cache ? [agent.cache] : [])]) {
    if (!isAbsolute(p) || resolve(p) !== p) {
      throw new ArmorerError('ARMORER_E_PATH', `${p} is not an absolute path without "." or ".." parts`,
        'give agent and cache directories as plain absolute paths (e.g. ARMORER_CACHE_DIR=/var/cache/armorer-npm)');
    }
  }
  const inside = (p: string, root: string) => p !== root && pathContains(root, p);
  if (!inside(agent.dir, agentsRoot)) {
    throw new ArmorerError('ARMORER_E_PATH', `${agent.dir} is not an agent directory under ${agentsRoot}`, 'this is a bug: report it');
  }
  for (const p of [workspace, ...agent.mounts.map((m) => m.source), ...(agent.home ? [agent.home] : [])]) {
    if (!inside(p, agent.dir)) {
      throw new ArmorerError('ARMORER_E_PATH', `${p} is outside the agent's directory ${agent.dir}`, 'this is a bug: report it');
    }
  }
  const c = agent.cache;
  if (c !== undefined && !inside(c, `${armorerHome}/cache`) &&
    (pathContains(c, armorerHome) || pathContains(armorerHome, c) || pathContains(c, userHome) || SYSTEM_ROOTS.includes(c))) {
    throw new ArmorerError('ARMORER_E_PATH', `the download cache ${c} would expose your home, a system directory or Armorer's state`,
      'use a dedicated directory for ARMORER_CACHE_DIR, e.g. /var/cache/armorer-npm');
  }
}

/** Replaces the throwaway HOME with the agent's persistent one. */
function withHome(mounts: Mount[], home: string | undefined): Mount[] {
  if (home === undefined) return mounts;
  return mounts.map((m) => m.kind === 'tmpfs' && m.target === SANDBOX_HOME
    ? { kind: 'rw', source: home, target: SANDBOX_HOME, why: 'the agent\'s private home (kept between runs)' } : m);
}

function mergeLimits(policy: Policy, flags: Limits): Pick<SandboxSpec, 'limits' | 'limitOrigins'> {
  const limits: Limits = {};
  const limitOrigins: Partial<Record<LimitName, LimitOrigin>> = {};
  const names: LimitName[] = ['memoryBytes', 'pids', 'cpus', 'fileSizeBytes', 'openFiles', 'timeoutSeconds'];
  for (const name of names) {
    const [value, origin] =
      flags[name] !== undefined ? [flags[name], 'flag' as const]
        : policy.limits[name] !== undefined ? [policy.limits[name], 'policy' as const]
          : [DEFAULT_LIMITS[name], 'default' as const];
    if (value === undefined || (name === 'timeoutSeconds' && value === 0)) continue;
    // A default never asks for more cores than the machine has.
    limits[name] = name === 'cpus' && origin === 'default' ? Math.min(value, availableParallelism()) : value;
    limitOrigins[name] = origin;
  }
  return { limits, limitOrigins };
}

function sandboxEnv(hostEnv: NodeJS.ProcessEnv, names: Set<string>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
    HOME: SANDBOX_HOME,
    USER: SANDBOX_USER,
    LOGNAME: SANDBOX_USER,
    SHELL: '/bin/sh',
    TMPDIR: '/tmp',
    LANG: hostEnv['LANG'] ?? 'C.UTF-8',
    TERM: hostEnv['TERM'] ?? 'dumb',
  };
  for (const name of names) {
    const v = hostEnv[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/**
 * What clients need to use the proxy. curl, wget, git, pip/requests, Go and npm read the
 * *_PROXY variables; Node's fetch does from 22.21/24.5 with NODE_USE_ENV_PROXY. A client that
 * ignores them has no network at all: there is no other route out.
 */
function proxyEnv(port: number, hostNodeOptions: string | undefined, passed: Set<string>): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const base = passed.has('NODE_OPTIONS') && hostNodeOptions ? `${hostNodeOptions} ` : '';
  return {
    ...(proxyPreload() !== null && { NODE_OPTIONS: `${base}--require=${PRELOAD_PATH}` }),
    HTTP_PROXY: url, HTTPS_PROXY: url, ALL_PROXY: url, http_proxy: url, https_proxy: url, all_proxy: url,
    NO_PROXY: 'localhost,127.0.0.1,::1', no_proxy: 'localhost,127.0.0.1,::1',
    NODE_USE_ENV_PROXY: '1',
  };
}

function preloadMount(): Mount[] {
  const content = proxyPreload();
  return content === null ? [] : [{ kind: 'data', target: PRELOAD_PATH, content, mode: 0o444, why: 'lets older Node fetch use the proxy' }];
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}
