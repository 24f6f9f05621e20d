/**
 * An agent's whole life through the built CLI, as a user drives it: install from the npm registry
 * (npm inside the install sandbox, registry egress only), run, tamper, edit the policy, look around
 * from inside, uninstall. The npm registry is the only non-loopback host contacted. Runs as root
 * (dedicated sandbox user, ACLs) and as an unprivileged user (scripts/test.sh does both).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config.js';
import { writeRegistryConfig } from '../lib/registry.js';
import { tempDirs } from '../lib/temp.js';

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');
const { tempDir, cleanup } = tempDirs('armorer-agents');
const uid = process.getuid!();
/**
 * npm's download cache survives between runs so reruns are fast. Per user: a cache another user
 * can write to would feed packages into our installs (and root's is shared with the e2e suite).
 */
const CACHE = process.env['ARMORER_CACHE_DIR'] ?? `/var/tmp/armorer-test-npm-cache${uid === 0 ? '' : `-${uid}`}`;
const COWSAY = 'npm:cowsay@1.6.0';
const INTENT = 'tell me the weather forecast as a talking cow';

let home = '';
let env: NodeJS.ProcessEnv = {};
let registryHost = '';

interface Run { code: number | null; out: string; err: string }
interface Event { seq: number; agent: string; kind: string; decision: string | null; rule: string | null; data: Record<string, unknown> }

function armorer(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeout = 180_000): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Asserts a refusal: Armorer's exit status for its own errors, the code, and never a stack trace. */
function refused(r: Run, code: string, exit = 125): void {
  assert.equal(r.code, exit, `exit ${r.code}\n${r.out}\n${r.err}`);
  assert.match(r.err, new RegExp(`\\[${code}\\]\\n  fix: `), r.err);
  assert.doesNotMatch(r.err, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
  assert.doesNotMatch(r.err, /internal error/);
}

function events(...filter: string[]): Event[] {
  const r = armorer(['logs', '--json', ...filter]);
  assert.equal(r.code, 0, r.err);
  return r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
}

const agentDir = (name: string) => join(home, 'agents', name);
const mode = (p: string) => statSync(p).mode & 0o777;

before(async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run "npm run build" first`);
  mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  const cache = statSync(CACHE);
  assert.equal(cache.uid, uid, `${CACHE} belongs to uid ${cache.uid}, not to us: set ARMORER_CACHE_DIR to a cache of your own`);
  chmodSync(CACHE, 0o700);
  home = join(tempDir('home'), 'armorer');
  env = {
    PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env['HOME'] ?? '/nonexistent', LANG: 'C.UTF-8', ARMORER_HOME: home,
    ARMORER_PASSPHRASE: 'agents suite passphrase, long enough', ARMORER_CACHE_DIR: CACHE,
    // A TLS-inspecting gateway's CA (CI): npm inside the install sandbox needs it to reach the registry.
    ...(process.env['NODE_EXTRA_CA_CERTS'] && { NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] }),
  };
  const init = armorer(['init']);
  assert.equal(init.code, 0, init.err);
  await writeRegistryConfig(home);
  registryHost = new URL((await loadConfig(home)).install.registry).hostname;
});

after(cleanup);

describe('an npm agent from install to uninstall', () => {
  let dryPolicy: unknown;

  test('--dry-run --json prints the plan, each grant with its words, and installs nothing', () => {
    const r = armorer(['install', COWSAY, '--intent', INTENT, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { agent: string; grants: unknown[]; not_understood: string[]; policy: { name: string; grants: { scope: string; because: string }[] } };
    assert.equal(plan.agent, 'cowsay');
    assert.deepEqual(plan.grants, [
      { scope: 'net.outbound:api.open-meteo.com:443', because: 'weather' },
      { scope: 'net.outbound:geocoding-api.open-meteo.com:443', because: 'weather' },
    ]);
    assert.deepEqual(plan.not_understood, ['cow']);
    assert.equal(plan.policy.name, 'cowsay');
    assert.deepEqual(plan.policy.grants.map((g) => g.scope), plan.grants.map((g) => (g as { scope: string }).scope));
    assert.match(plan.policy.grants[0]!.because, /^intent "weather": /);
    dryPolicy = plan.policy;
    assert.deepEqual(existsSync(join(home, 'agents')) ? readdirSync(join(home, 'agents')) : [], []);
  });

  test('without --yes and without a terminal, it refuses and installs nothing', () => {
    const r = armorer(['install', COWSAY, '--intent', INTENT]);
    refused(r, 'ARMORER_E_USAGE', 2);
    assert.match(r.err, /no terminal to ask on/);
    assert.equal(existsSync(agentDir('cowsay')), false);
    assert.equal(existsSync(join(home, 'audit.db')), false, 'no install was started, so nothing was audited');
  });

  test('--yes installs it privately, records it, and audits the install and its registry traffic only', async () => {
    const r = armorer(['install', COWSAY, '--intent', INTENT, '--yes']);
    const tlsHint = /SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER/.test(r.err) ? '\n(behind a TLS-inspecting gateway: set NODE_EXTRA_CA_CERTS to its CA)' : '';
    assert.equal(r.code, 0, `${r.out}\n${r.err}${tlsHint}`);
    assert.match(r.err, /Installed cowsay\. Start it with: armorer run cowsay/);
    const dir = agentDir('cowsay');
    const pkg = JSON.parse(readFileSync(join(dir, 'prefix/node_modules/cowsay/package.json'), 'utf8')) as { version: string };
    assert.equal(pkg.version, '1.6.0');
    for (const f of ['integrity.json', 'policy.yaml', 'agent.json']) assert.equal(mode(join(dir, f)), 0o600, f);
    for (const d of ['', 'prefix', 'home', 'workspace']) assert.equal(mode(join(dir, d)), 0o700, `agents/cowsay/${d}`);
    const { parse } = await import('yaml');
    assert.deepEqual(parse(readFileSync(join(dir, 'policy.yaml'), 'utf8')), dryPolicy, 'what was shown is what was installed');

    const list = armorer(['list', '--json']);
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(JSON.parse(list.out), [{ name: 'cowsay', recipe: 'npm', package: 'cowsay@1.6.0', running: false }]);

    assert.deepEqual(events('--agent', 'cowsay').map((e) => e.kind), ['agent.install.start', 'agent.install.done']);
    const egress = events('--agent', 'install:cowsay');
    assert.ok(egress.length > 0, 'the install reached the registry through the proxy');
    for (const e of egress) {
      assert.equal(e.kind, 'egress.connection', JSON.stringify(e));
      assert.equal(e.decision, 'allow');
      assert.deepEqual([e.data['host'], e.data['port']], [registryHost, 443]);
    }
    const others = events().filter((e) => e.kind.startsWith('egress.') && e.data['host'] !== registryHost);
    assert.deepEqual(others, [], 'no egress to any host but the registry');
  });

  test('run passes its arguments to the agent in the sandbox and audits start and end', () => {
    const r = armorer(['run', 'cowsay', '--', 'hello']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ _{7}\n< hello >\n -{7}\n {8}\\ {3}\^__\^\n/);
    assert.match(r.out, /\(oo\)\\_______/);
    assert.match(r.err, /integrity: \d+ files match the install record/);
    const kinds = events('--agent', 'cowsay').slice(-2);
    assert.deepEqual(kinds.map((e) => e.kind), ['agent.run.start', 'agent.run.end']);
    assert.deepEqual(kinds[0]!.data['args'], ['hello']);
    assert.equal(kinds[1]!.data['exitCode'], 0);
  });

  test('a file changed in the prefix stops the run before the agent starts, naming the file', () => {
    const file = join(agentDir('cowsay'), 'prefix/node_modules/cowsay/package.json');
    const original = readFileSync(file);
    appendFileSync(file, '\n');
    try {
      const r = armorer(['run', 'cowsay', '--', 'hello']);
      refused(r, 'ARMORER_E_INTEGRITY');
      assert.match(r.err, /differ from the install record: changed: node_modules\/cowsay\/package\.json/);
      assert.equal(r.out, '', 'the agent did not run');
      const last = events('--agent', 'cowsay').slice(-2);
      assert.deepEqual(last.map((e) => e.kind), ['agent.run.start', 'agent.run.failed']);
      assert.equal(last[1]!.data['code'], 'ARMORER_E_INTEGRITY');
    } finally {
      writeFileSync(file, original);
    }
    assert.equal(armorer(['run', 'cowsay', '--', 'again']).code, 0, 'restored, it runs again');
  });

  test('installing the same name again is refused and leaves the agent as it was', () => {
    const record = readFileSync(join(agentDir('cowsay'), 'integrity.json'));
    const r = armorer(['install', COWSAY, '--intent', INTENT, '--yes']);
    refused(r, 'ARMORER_E_AGENT');
    assert.match(r.err, /an agent named "cowsay" already exists/);
    assert.deepEqual(readFileSync(join(agentDir('cowsay'), 'integrity.json')), record);
  });

  test('a --scope that is not a scope is refused with its code, before anything is made', () => {
    for (const [scope, code] of [['bogus.kind:x', 'ARMORER_E_SCOPE'], ['files.read:relative/dir', 'ARMORER_E_PATH'], ['net.outbound:', 'ARMORER_E_SCOPE']]) {
      const r = armorer(['install', COWSAY, '--name', 'cowbad', '--intent', INTENT, '--yes', '--scope', scope!]);
      refused(r, code!);
      assert.equal(r.out, '', 'no plan is shown for a refused scope');
    }
    assert.equal(existsSync(agentDir('cowbad')), false);
  });

  test('policy edit keeps the old policy when the loader refuses the edit, and audits an accepted one', () => {
    const policy = join(agentDir('cowsay'), 'policy.yaml');
    const before = readFileSync(policy, 'utf8');
    const editors = tempDir('editors');
    const editor = (name: string, script: string) => {
      writeFileSync(join(editors, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      return join(editors, name);
    };
    const badYaml = armorer(['policy', 'edit', 'cowsay'], { EDITOR: editor('bad-yaml', 'printf "grants: [\\n  - oops\\n" > "$1"') });
    refused(badYaml, 'ARMORER_E_POLICY_SYNTAX');
    assert.match(badYaml.err, /\(the policy is unchanged\)/);
    const unknown = armorer(['policy', 'edit', 'cowsay'], { EDITOR: editor('unknown', 'sed -i "s|^grants:$|grants:\\n  - scope: files.peek:/usr/share/doc|" "$1"') });
    refused(unknown, 'ARMORER_E_SCOPE');
    assert.match(unknown.err, /policy\.yaml:\d+:\d+: scope "files\.peek:\/usr\/share\/doc" has an unknown kind/);
    assert.equal(readFileSync(policy, 'utf8'), before, 'the policy file is unchanged');

    const ok = armorer(['policy', 'edit', 'cowsay'], { EDITOR: editor('ok', 'sed -i "s|^grants:$|grants:\\n  - scope: files.read:/usr/share/doc|" "$1"') });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /policy of cowsay updated: 1 grant\(s\) added \(files\.read:\/usr\/share\/doc\), 0 removed/);
    assert.match(armorer(['policy', 'show', 'cowsay']).out, /^ {2}- scope: files\.read:\/usr\/share\/doc$/m);
    assert.equal(mode(policy), 0o600);
    const edits = events('--agent', 'cowsay', '--kind', 'agent.policy.edit');
    assert.equal(edits.length, 1, 'refused edits are not recorded as edits');
    assert.deepEqual(edits[0]!.data, { added: ['files.read:/usr/share/doc'], removed: [] });
  });

  test('status of a stopped agent says so; an unknown agent is refused', () => {
    const r = armorer(['status', 'cowsay', '--json']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual([s['running'], s['pid'], s['package'], s['grants'], s['intent']], [false, null, 'cowsay@1.6.0', 3, INTENT]);
    const unknown = armorer(['status', 'nosuch', '--json']);
    refused(unknown, 'ARMORER_E_AGENT');
    assert.match(unknown.err, /no agent named "nosuch" is installed/);
    assert.equal(unknown.out, '');
  });

  test('stop of an agent that is not running is refused', () => {
    const r = armorer(['stop', 'cowsay']);
    refused(r, 'ARMORER_E_AGENT_RUNNING');
    assert.match(r.err, /agent "cowsay" is not running/);
  });
});

describe('command agents', () => {
  test('--command installs an existing program that run starts with its arguments', () => {
    const r = armorer(['install', 'hello', '--command', '/bin/echo hi there', '--intent', 'print a greeting', '--yes']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(readFileSync(join(agentDir('hello'), 'agent.json'), 'utf8')).command, ['/bin/echo', 'hi', 'there']);
    const run = armorer(['run', 'hello']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, 'hi there\n');
    assert.equal(armorer(['run', 'hello', '--', 'and', 'more']).out, 'hi there and more\n');
  });

  test('a command line with shell syntax outside quotes is refused', () => {
    const r = armorer(['install', 'sneaky', '--command', 'echo $(id)', '--intent', 'print my id', '--yes']);
    refused(r, 'ARMORER_E_RECIPE');
    assert.match(r.err, /shell character "\$"/);
    assert.equal(existsSync(agentDir('sneaky')), false);
  });

  test('inside, the agent sees its own home and workspace and nothing else of Armorer', () => {
    const hidden = ['audit.db', 'keys', 'keys/audit-ed25519.key', 'secrets', 'config.yaml', 'agents/cowsay', 'agents/hello/home'].map((p) => join(home, p));
    for (const p of hidden) assert.ok(existsSync(p), `${p} exists on the host`);
    // The paths are written into the command line: nothing inside is told where $ARMORER_HOME is.
    const script = [...hidden.map((p) => `ls -d "${p}" 2>&1`), `cat "${join(home, 'keys/audit-ed25519.key')}" 2>&1`,
      'cat "$HOME/home-marker"', 'cat ./workspace-marker', 'pwd', 'echo "HOME=$HOME"'].join('; ');
    const install = armorer(['install', 'seer', '--command', `/bin/sh -c '${script}'`, '--intent', 'look around', '--yes']);
    assert.equal(install.code, 0, install.err);
    writeFileSync(join(agentDir('seer'), 'home', 'home-marker'), 'in my home\n');
    writeFileSync(join(agentDir('seer'), 'workspace', 'workspace-marker'), 'in my workspace\n');
    const r = armorer(['run', 'seer']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    for (const p of hidden) assert.ok(lines.includes(`ls: cannot access '${p}': No such file or directory`), `${p} is visible:\n${r.out}`);
    assert.ok(lines.includes(`cat: ${join(home, 'keys/audit-ed25519.key')}: No such file or directory`), r.out);
    assert.deepEqual(lines.slice(-5), ['in my home', 'in my workspace', join(agentDir('seer'), 'workspace'), 'HOME=/home/agent', '']);
  });
});

describe('after uninstall', () => {
  test('the agent\'s directory is gone and its history stays in a log that still verifies', () => {
    const r = armorer(['uninstall', 'cowsay']);
    assert.equal(r.code, 0, r.err);
    assert.equal(existsSync(agentDir('cowsay')), false);
    assert.deepEqual((JSON.parse(armorer(['list', '--json']).out) as { name: string }[]).map((a) => a.name), ['hello', 'seer']);
    const verify = armorer(['logs', 'verify']);
    assert.equal(verify.code, 0, verify.out + verify.err);
    assert.match(verify.out, /^audit log: OK: /);
    assert.deepEqual(events('--agent', 'cowsay').map((e) => e.kind), [
      'agent.install.start', 'agent.install.done', 'agent.run.start', 'agent.run.end', 'agent.run.start', 'agent.run.failed',
      'agent.run.start', 'agent.run.end', 'agent.policy.edit', 'agent.uninstall',
    ]);
    refused(armorer(['run', 'cowsay']), 'ARMORER_E_AGENT');
    const others = events().filter((e) => e.kind.startsWith('egress.') && e.data['host'] !== registryHost);
    assert.deepEqual(others, [], 'no egress to any host but the registry, over the whole suite');
  });
});
