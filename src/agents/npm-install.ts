import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ArmorerError } from '../core/errors.js';
import type { AgentDirs } from '../policy/compile.js';
import type { Grant } from '../policy/types.js';
import { SYSTEM_PATH } from '../sandbox/bwrap/locate.js';
import type { AgentPaths } from './paths.js';

export interface NpmInstallRequest {
  armorerHome: string;
  paths: AgentPaths;
  /** npm specs, e.g. `openclaw@2026.9.6`. */
  packages: string[];
  /** Packages whose lifecycle scripts may run (sandboxedNpmRebuild, in the same kind of sandbox). */
  allowScripts: string[];
  registry: string;
  cache: string;
  notice: (line: string) => void;
  stdout: Writable;
  stderr: Writable;
}

/** Directories every sandbox sees (system-view.ts); npm and node must live there to be usable inside. */
const VISIBLE = ['/usr/', '/bin/', '/lib/'];

/** The host's node and npm, as the install sandbox will run them. */
export function hostNpm(): { node: string; npmCli: string } {
  const find = (name: string) => {
    for (const dir of SYSTEM_PATH.split(':')) {
      const p = `${dir}/${name}`;
      if (existsSync(p)) return realpathSync(p);
    }
    return null;
  };
  const node = find('node');
  const npmCli = find('npm');
  if (!node || !npmCli) {
    throw new ArmorerError('ARMORER_E_INSTALL', 'node and npm were not found in the system PATH',
      'install Node.js >= 20.19 with npm from your distribution or NodeSource (into /usr)');
  }
  for (const p of [node, npmCli]) {
    if (!VISIBLE.some((v) => p.startsWith(v))) {
      throw new ArmorerError('ARMORER_E_INSTALL', `${p} is outside the system directories the install sandbox can see`,
        'install Node.js with npm under /usr (distribution or NodeSource packages)');
    }
  }
  return { node, npmCli };
}

/**
 * `npm install` inside the sandbox: the only network is the registry host (through the proxy), the
 * only writable places are the agent's prefix and the download cache, lifecycle scripts are off,
 * and only the recipe's allowed packages get theirs run afterwards (sandboxed the same way).
 */
export async function sandboxedNpmInstall(r: NpmInstallRequest): Promise<void> {
  const { node, npmCli } = hostNpm();
  mkdirSync(r.paths.prefix, { recursive: true, mode: 0o755 });
  mkdirSync(r.cache, { recursive: true, mode: 0o700 });
  // The containment checks compare paths: compare the real one, not a symlink to somewhere else.
  r = { ...r, cache: realpathSync(r.cache) };
  const manifest = `${r.paths.prefix}/package.json`;
  if (!existsSync(manifest)) writeFileSync(manifest, `${JSON.stringify({ name: 'armorer-agent', private: true }, null, 2)}\n`);
  await runNpm(r, [npmCli, 'install', '--ignore-scripts', '--save-exact', ...r.packages], node);
}

/**
 * Runs the lifecycle scripts of the packages a recipe allows, in the same kind of sandbox, with the
 * agent's own Node first on PATH (a script may need the Node the package declares).
 */
export async function sandboxedNpmRebuild(req: Omit<NpmInstallRequest, 'packages'>, nodeBinDir: string | null): Promise<void> {
  if (req.allowScripts.length === 0) return;
  const { node, npmCli } = hostNpm();
  await runNpm({ ...req, cache: realpathSync(req.cache) }, [npmCli, 'rebuild', '--foreground-scripts', ...req.allowScripts], node, nodeBinDir);
}

/** One npm command in the install sandbox: `npmArgs` plus the prefix, registry and cache settings. */
async function runNpm(r: Omit<NpmInstallRequest, 'packages'>, npmArgs: string[], node: string,
  nodeBinDir: string | null = null): Promise<void> {
  const registryHost = new URL(r.registry).hostname;
  const args = [...npmArgs, '--prefix', r.paths.prefix, '--registry', r.registry, '--cache', r.cache,
    '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'];
  const { parseScope } = await import('../policy/scope.js');
  const { defaultPolicy } = await import('../policy/types.js');
  const { compilePolicy } = await import('../policy/compile.js');
  const { launchSpec } = await import('../sandbox/launch.js');
  const ctx = { home: '/nonexistent', workspace: r.paths.prefix };
  const text = `net.outbound:${registryHost}:443`;
  const grants: Grant[] = [{ scope: parseScope(text, ctx), text, because: 'the npm registry, for the install only', source: 'recipe' }];
  const agent: AgentDirs = { dir: r.paths.dir, mounts: [], cache: r.cache };
  const spec = compilePolicy({ ...defaultPolicy(), grants }, {
    command: [node, ...args], workspace: r.paths.prefix, armorerHome: r.armorerHome, agent,
    limitFlags: { timeoutSeconds: 1800 },
  });
  spec.env = { ...spec.env, ...npmEnv() };
  if (nodeBinDir) spec.env['PATH'] = `${nodeBinDir}:${spec.env['PATH'] ?? ''}`;
  const result = await launchSpec({
    spec, grants, armorerHome: r.armorerHome, agent: `install:${r.paths.dir.split('/').pop()}`, notice: r.notice,
    stdout: r.stdout, stderr: r.stderr, stdin: 'ignore',
  });
  if (result.exitCode !== 0) {
    throw new ArmorerError('ARMORER_E_INSTALL',
      `npm ${args[1]} exited with ${result.signal ?? result.exitCode}${result.timedOut ? ' (time limit)' : ''}`,
      'read npm\'s output above; check that the registry is reachable (armorer doctor) and the version exists');
  }
}

/**
 * npm's own settings inside: no update checks, no user config (the sandbox HOME is empty anyway),
 * and the host's extra CA bundle when it has one under /etc or /usr (a TLS-inspecting gateway).
 */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = { npm_config_update_notifier: 'false', npm_config_userconfig: '/dev/null' };
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  if (extra && (extra.startsWith('/etc/') || extra.startsWith('/usr/')) && existsSync(extra)) env['NODE_EXTRA_CA_CERTS'] = extra;
  return env;
}
