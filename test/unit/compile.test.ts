import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compilePolicy, defaultPolicy, parsePolicy } from '../../src/policy/index.js';
import { isArmorerError } from '../../src/core/errors.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'armorer-compile-')));
const ws = join(root, 'ws');
const notes = join(root, 'notes');
const out = join(root, 'out');
for (const d of [ws, notes, out, join(root, 'state')]) mkdirSync(d);
const base = { command: ['true'], workspace: ws, armorerHome: join(root, 'state'), userHome: '/home/nobody-here', hostEnv: {} };

function policy(yaml: string) {
  return parsePolicy(`version: 1\n${yaml}`, 'p.yaml', { home: root, workspace: ws });
}

describe('compilePolicy', () => {
  test('mounts the workspace read-write and nothing of the user by default', () => {
    const spec = compilePolicy(defaultPolicy(), base);
    const user = spec.mounts.filter((m) => (m.kind === 'ro' || m.kind === 'rw') && !m.target.startsWith('/usr') && !m.target.startsWith('/etc'));
    assert.deepEqual(user.map((m) => [m.kind, m.target]), [['rw', ws]]);
    assert.equal(spec.cwd, ws);
    assert.equal(spec.network.mode, 'none');
  });

  test('read grants are read-only, write grants read-write, each with its reason', () => {
    const spec = compilePolicy(policy(`grants:\n  - scope: files.read:${notes}\n    because: read my notes\n  - files.write:${out}\n`), base);
    const n = spec.mounts.find((m) => m.kind !== 'symlink' && m.target === notes);
    const o = spec.mounts.find((m) => m.kind !== 'symlink' && m.target === out);
    assert.equal(n?.kind, 'ro');
    assert.match(n!.why, /read my notes/);
    assert.equal(o?.kind, 'rw');
  });

  test('a read-only grant inside a writable one is mounted after it, so it stays read-only', () => {
    const inner = join(ws, 'vendor');
    mkdirSync(inner, { recursive: true });
    const spec = compilePolicy(policy(`grants:\n  - files.read:${inner}\n`), base);
    const order = spec.mounts.filter((m) => m.kind === 'ro' || m.kind === 'rw').map((m) => m.target);
    assert.ok(order.indexOf(ws) < order.indexOf(inner));
  });

  test('protects all of .git and friends under every writable root', () => {
    const spec = compilePolicy(policy(`grants:\n  - files.write:${out}\nsandbox:\n  protect: [".npmrc"]\n`), base);
    const has = (root: string, rel: string) => spec.protectedPaths.some((p) => p.root === root && p.rel === rel);
    for (const r of [ws, out]) {
      assert.ok(has(r, '.git/'));
      assert.ok(has(r, '.envrc'));
      assert.ok(has(r, '.npmrc'));
    }
    assert.ok(!spec.protectedPaths.some((p) => p.root === notes));
  });

  test('with sandbox.writableGit, only what git runs or obeys stays read-only', () => {
    const spec = compilePolicy(policy('sandbox:\n  writableGit: true\n'), base);
    const rels = spec.protectedPaths.map((p) => p.rel);
    assert.ok(!rels.includes('.git/'));
    for (const rel of ['.git/hooks/', '.git/config', '.git/info/']) assert.ok(rels.includes(rel), rel);
  });

  test('passes only the environment it names: never the caller\'s secrets', () => {
    const spec = compilePolicy(policy('grants:\n  - env.pass:WANTED\n'),
      { ...base, hostEnv: { WANTED: 'yes', AWS_SECRET_ACCESS_KEY: 'nope', LANG: 'C.UTF-8' }, envNames: ['ALSO'] });
    assert.equal(spec.env['WANTED'], 'yes');
    assert.equal(spec.env['AWS_SECRET_ACCESS_KEY'], undefined);
    assert.equal(spec.env['ALSO'], undefined, 'not set on the host, so not set inside');
    assert.deepEqual(Object.keys(spec.env).sort(), ['HOME', 'LANG', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'TMPDIR', 'USER', 'WANTED']);
  });

  test('flags win over the policy, the policy over defaults, and each limit says where it came from', () => {
    const spec = compilePolicy(policy('limits:\n  memory: 1GiB\n  pids: 100\n'), { ...base, limitFlags: { pids: 7 } });
    assert.equal(spec.limits.pids, 7);
    assert.equal(spec.limitOrigins.pids, 'flag');
    assert.equal(spec.limits.memoryBytes, 1024 ** 3);
    assert.equal(spec.limitOrigins.memoryBytes, 'policy');
    assert.equal(spec.limitOrigins.fileSizeBytes, 'default');
    assert.equal(spec.limits.timeoutSeconds, undefined, 'no default wall-clock limit');
  });

  test('refuses a workspace that is a system directory or contains the user\'s home', () => {
    for (const workspace of ['/', '/usr', '/home']) {
      assert.throws(() => compilePolicy(defaultPolicy(), { ...base, workspace }),
        (e) => isArmorerError(e) && e.code === 'ARMORER_E_WORKSPACE');
    }
    assert.throws(() => compilePolicy(defaultPolicy(), { ...base, userHome: join(ws, 'me') }),
      (e) => isArmorerError(e) && e.code === 'ARMORER_E_WORKSPACE' && /home directory/.test(e.message));
  });

  test('never exposes Armorer\'s own state directory, even through a broad grant', () => {
    assert.throws(() => compilePolicy(policy(`grants:\n  - files.read:${root}\n`), base),
      (e) => isArmorerError(e) && e.code === 'ARMORER_E_PATH' && /Armorer's own state/.test(e.message));
  });

  test('a network grant turns on the egress proxy and points every client at it', () => {
    const spec = compilePolicy(policy('grants:\n  - net.outbound:api.example.com:443\n'), base);
    assert.deepEqual(spec.network, { mode: 'proxy', allowHosts: [{ host: 'api.example.com', port: 443 }], proxyPort: 3128 });
    assert.equal(spec.env['HTTPS_PROXY'], 'http://127.0.0.1:3128');
    assert.equal(spec.env['NODE_USE_ENV_PROXY'], '1');
  });

  test('without network grants there is no network at all', () => {
    const spec = compilePolicy(defaultPolicy(), base);
    assert.equal(spec.network.mode, 'none');
    assert.equal(spec.env['HTTPS_PROXY'], undefined);
  });

  test('hides the real /etc/passwd behind one naming only the sandbox user', () => {
    const spec = compilePolicy(defaultPolicy(), base);
    const passwd = spec.mounts.find((m) => m.target === '/etc/passwd');
    assert.equal(passwd?.kind, 'data');
    assert.doesNotMatch((passwd as { content: string }).content, /root:x:0:0:root:\/root:\/bin\/bash/);
    assert.ok(!spec.mounts.some((m) => m.target === '/etc/shadow' || m.target === '/etc'));
  });
});
