import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { agentPaths } from '../../src/agents/paths.js';
import { isArmorerError } from '../../src/core/errors.js';
import { armorerHome as armorerHomeOf } from '../../src/core/paths.js';
import { type AgentDirs, type CompileOptions } from '../../src/policy/compile.js';
import { compilePolicy, defaultPolicy, parsePolicy } from '../../src/policy/index.js';
import { SANDBOX_HOME } from '../../src/policy/system-view.js';
import type { Mount, SandboxSpec } from '../../src/sandbox/spec.js';

// Compiling touches no agent directory (it only plans mounts), but paths are canonical: a real root.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'armorer-compile-agent-')));
after(() => rmSync(root, { recursive: true, force: true }));
const userHome = join(root, 'home', 'alice');
const armorerHome = join(userHome, '.armorer');
const agentDir = join(armorerHome, 'agents', 'bot');
const dirs = {
  prefix: join(agentDir, 'prefix'), home: join(agentDir, 'home'), workspace: join(agentDir, 'workspace'),
  other: join(armorerHome, 'agents', 'other'),
};
for (const d of [...Object.values(dirs), join(armorerHome, 'keys'), join(armorerHome, 'secrets')]) mkdirSync(d, { recursive: true });

/** The run sandbox `armorer run` asks for: prefix read-only, persistent home. */
function runDirs(): AgentDirs {
  return { dir: agentDir, home: dirs.home, mounts: [{ source: dirs.prefix, kind: 'ro', why: 'the installed agent (read-only)' }] };
}

/** The install sandbox: prefix as workspace, the shared download cache read-write. */
function installDirs(cache: string): AgentDirs {
  return { dir: agentDir, mounts: [], cache };
}

function compile(agent: AgentDirs, extra: Partial<CompileOptions> = {}, policyYaml?: string): SandboxSpec {
  const policy = policyYaml === undefined ? defaultPolicy()
    : parsePolicy(`version: 1\n${policyYaml}`, 'p.yaml', { home: userHome, workspace: dirs.workspace });
  return compilePolicy(policy, { command: ['true'], workspace: dirs.workspace, armorerHome, userHome, hostEnv: {}, agent, ...extra });
}

function refusedPath(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isArmorerError(e), String(e));
    assert.equal(e.code, 'ARMORER_E_PATH', e.message);
    assert.match(e.message, message);
    return true;
  });
}

const hostMounts = (spec: SandboxSpec) =>
  spec.mounts.filter((m): m is Extract<Mount, { source: string }> => m.kind === 'ro' || m.kind === 'rw');

describe('compilePolicy for an installed agent', () => {
  test('the agent home replaces the throwaway tmpfs HOME, read-write', () => {
    const spec = compile(runDirs());
    assert.equal(spec.home, SANDBOX_HOME);
    assert.equal(spec.env['HOME'], SANDBOX_HOME);
    assert.equal(spec.mounts.filter((m) => m.target === SANDBOX_HOME).length, 1, 'exactly one mount at HOME');
    const home = spec.mounts.find((m) => m.target === SANDBOX_HOME);
    assert.deepEqual(home && { kind: home.kind, source: (home as { source?: string }).source }, { kind: 'rw', source: dirs.home });
    // Without an agent home, HOME stays a private tmpfs gone at exit.
    const plain = compile({ dir: agentDir, mounts: [] });
    assert.equal(plain.mounts.find((m) => m.target === SANDBOX_HOME)?.kind, 'tmpfs');
  });

  test('the prefix is read-only and the workspace read-write and the working directory', () => {
    const spec = compile(runDirs());
    const byTarget = new Map(hostMounts(spec).map((m) => [m.target, m.kind]));
    assert.equal(byTarget.get(dirs.prefix), 'ro');
    assert.equal(byTarget.get(dirs.workspace), 'rw');
    assert.equal(spec.cwd, dirs.workspace);
  });

  test('a workspace, mount or home outside the agent\'s directory is refused', () => {
    refusedPath(() => compile(runDirs(), { workspace: dirs.other }), /outside the agent's directory/);
    refusedPath(() => compile(runDirs(), { workspace: join(root, 'project') }), /outside the agent's directory/);
    refusedPath(() => compile(runDirs(), { workspace: agentDir }), /outside the agent's directory/);
    refusedPath(() => compile({ ...runDirs(), home: join(dirs.other, 'home') }), /outside the agent's directory/);
    refusedPath(() => compile({ ...runDirs(), mounts: [{ source: join(armorerHome, 'keys'), kind: 'ro', why: 'x' }] }), /outside the agent's directory/);
    refusedPath(() => compile({ ...runDirs(), mounts: [{ source: armorerHome, kind: 'ro', why: 'x' }] }), /outside the agent's directory/);
  });

  test('the agent directory itself must be one agent under $ARMORER_HOME/agents', () => {
    for (const dir of [join(armorerHome, 'agents'), armorerHome, join(root, 'elsewhere', 'agents', 'bot')]) {
      refusedPath(() => compile({ dir, mounts: [] }, { workspace: join(dir, 'workspace') }), /is not an agent directory/);
    }
  });

  test('paths with .. cannot walk out of the agent\'s directory', () => {
    refusedPath(() => compile(runDirs(), { workspace: join(agentDir, 'workspace') + '/../../other/workspace' }), /without "\." or "\.\."/);
    refusedPath(() => compile({ ...runDirs(), home: `${agentDir}/home/../../../keys` }), /without "\." or "\.\."/);
    refusedPath(() => compile({ ...runDirs(), mounts: [{ source: `${agentDir}/../../secrets`, kind: 'ro', why: 'x' }] }), /without "\." or "\.\."/);
    refusedPath(() => compile(installDirs(`${armorerHome}/cache/../keys`), { workspace: dirs.prefix }), /without "\." or "\.\."/);
    refusedPath(() => compile(runDirs(), { workspace: 'agents/bot/workspace' }), /absolute path/);
  });

  test('a download cache that contains your home or $ARMORER_HOME, or is a system directory, is refused', () => {
    for (const cache of [userHome, join(root, 'home'), root, armorerHome, join(armorerHome, 'keys'), join(armorerHome, 'secrets'),
      join(armorerHome, 'cache'), '/', '/usr', '/etc', '/var', '/home']) {
      refusedPath(() => compile(installDirs(cache), { workspace: dirs.prefix }), /download cache .* would expose/);
    }
  });

  test('a dedicated cache, or one under $ARMORER_HOME/cache, is mounted read-write', () => {
    for (const cache of [join(armorerHome, 'cache', 'npm'), '/var/tmp/armorer-npm-cache', join(userHome, '.cache', 'armorer-npm')]) {
      const spec = compile(installDirs(cache), { workspace: dirs.prefix });
      assert.deepEqual(hostMounts(spec).filter((m) => m.source === cache).map((m) => [m.kind, m.target]), [['rw', cache]], cache);
    }
  });

  test('audit.db, keys, secrets and config never appear in any mount, for runs and installs', () => {
    const specs = [
      compile(runDirs()),
      compile(runDirs(), { egress: true }, 'grants:\n  - net.outbound:api.example.com:443\n  - files.read:/usr/share/doc\n'),
      compile(installDirs(join(armorerHome, 'cache', 'npm')), { workspace: dirs.prefix }),
    ];
    const secret = ['audit.db', 'audit.db-wal', 'keys', 'secrets', 'config.yaml', 'run', 'agents/other'].map((p) => join(armorerHome, p));
    for (const spec of specs) {
      for (const m of spec.mounts) {
        const paths = [m.target, ...('source' in m ? [m.source] : [])];
        for (const p of paths) {
          assert.ok(!secret.some((s) => p === s || p.startsWith(`${s}/`)), `${m.kind} mount ${p} exposes Armorer state`);
          if (p === armorerHome || p.startsWith(`${armorerHome}/`)) {
            assert.ok(p.startsWith(`${agentDir}/`) || p.startsWith(`${armorerHome}/cache/`), `${p} is Armorer state outside this agent`);
          }
        }
      }
    }
  });

  test('$ARMORER_HOME written with a trailing / or .. is normalised, so its agents still compile', () => {
    for (const written of [`${armorerHome}/`, `${armorerHome}//`, `${armorerHome}/../.armorer`, `${userHome}/./.armorer`]) {
      const home = armorerHomeOf({ ARMORER_HOME: written });
      assert.equal(home, armorerHome, written);
      const p = agentPaths(home, 'bot');
      const spec = compilePolicy(defaultPolicy(), {
        command: ['true'], workspace: p.workspace, armorerHome: home, userHome, hostEnv: {},
        agent: { dir: p.dir, home: p.home, mounts: [{ source: p.prefix, kind: 'ro', why: 'prefix' }] },
      });
      assert.equal(spec.cwd, dirs.workspace, written);
    }
  });

  test('a grant cannot reach into $ARMORER_HOME, not even the agent\'s own directory', () => {
    for (const scope of [`files.read:${join(armorerHome, 'keys')}`, `files.read:${armorerHome}`, `files.write:${dirs.other}`, `files.read:${userHome}/.armorer/agents`]) {
      refusedPath(() => compile(runDirs(), {}, `grants:\n  - ${scope}\n`), /would expose Armorer's own state/);
    }
  });
});
