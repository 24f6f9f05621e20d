import { availableParallelism, homedir } from 'node:os';
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
}

export function compilePolicy(policy: Policy, opts: CompileOptions): SandboxSpec {
  const hostEnv = opts.hostEnv ?? process.env;
  const userHome = opts.userHome ?? homedir();
  const grants = [...policy.grants, ...(opts.extraGrants ?? [])];
  checkWorkspace(opts.workspace, userHome, opts.armorerHome);

  const fileMounts: Mount[] = [
    { kind: 'rw', source: opts.workspace, target: opts.workspace, why: 'workspace' },
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
    mounts: [...systemMounts(limits.memoryBytes ?? DEFAULT_LIMITS.memoryBytes), ...fileMounts, ...(egress ? preloadMount() : [])],
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
