/**
 * Failing closed: when Armorer cannot set up what was asked, it says why with a code, exits 125,
 * and the command never runs (each command here would leave a marker file if it did).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { armorer, cleanup, exec, IS_ROOT, tempDir, workspace } from './helpers.js';

after(cleanup);

/** A command that proves it ran by writing `ran` into the workspace. */
function touchMarker(ws: string): string[] {
  return ['sh', '-c', `echo ran; touch ${join(ws, 'ran')}`];
}

function assertRefused(r: { code: number | null; stdout: string; stderr: string }, code: string): void {
  assert.equal(r.code, 125, r.stderr);
  assert.equal(r.stdout, '', 'the command printed nothing: it never ran');
  assert.match(r.stderr, new RegExp(`^armorer: .*\\[${code}\\]$`, 'm'));
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
}

describe('refusing to run', () => {
  test('a --workspace that does not exist: ARMORER_E_WORKSPACE', async () => {
    const missing = join(tempDir('gone'), 'not-here');
    const r = await exec(missing, ['sh', '-c', 'echo ran']);
    assertRefused(r, 'ARMORER_E_WORKSPACE');
    assert.match(r.stderr, new RegExp(`the workspace ${missing} cannot be used`));
  });

  test('a --workspace that is a file: ARMORER_E_WORKSPACE', async () => {
    const file = join(tempDir('file'), 'plain');
    writeFileSync(file, '');
    assertRefused(await exec(file, ['sh', '-c', 'echo ran']), 'ARMORER_E_WORKSPACE');
  });

  test('a --workspace of / or containing the caller\'s home: ARMORER_E_WORKSPACE', async () => {
    const root = await exec('/', ['sh', '-c', 'echo ran']);
    assertRefused(root, 'ARMORER_E_WORKSPACE');
    assert.match(root.stderr, /it is a system directory/);
    const home = await exec(homedir(), ['sh', '-c', 'echo ran']);
    assertRefused(home, 'ARMORER_E_WORKSPACE');
    assert.match(home.stderr, /it contains your home directory|it is a system directory/);
  });

  test('a policy with a YAML syntax error: ARMORER_E_POLICY_SYNTAX, and the command never ran', async () => {
    const ws = workspace();
    const policy = join(tempDir('policy'), 'broken.yaml');
    writeFileSync(policy, 'version: 1\nlimits: {fileSize: [8M\n', { mode: 0o644 });
    const r = await exec(ws, touchMarker(ws), { flags: ['--policy', policy] });
    assertRefused(r, 'ARMORER_E_POLICY_SYNTAX');
    assert.ok(!existsSync(join(ws, 'ran')), 'the marker was created');
  });

  test('a policy with an unknown key: ARMORER_E_POLICY_SCHEMA, and the command never ran', async () => {
    const ws = workspace();
    const policy = join(tempDir('policy'), 'typo.yaml');
    writeFileSync(policy, 'version: 1\nlimits:\n  memroy: 1G\n', { mode: 0o644 });
    const r = await exec(ws, touchMarker(ws), { flags: ['--policy', policy] });
    assertRefused(r, 'ARMORER_E_POLICY_SCHEMA');
    assert.ok(!existsSync(join(ws, 'ran')));
  });

  test('a grant that would expose Armorer\'s own state: ARMORER_E_PATH, and the command never ran', async () => {
    const ws = workspace();
    const home = tempDir('state');
    mkdirSync(join(home, 'keys'), { mode: 0o700 });
    const r = await exec(ws, touchMarker(ws), { flags: ['--allow', `files.read:${home}/keys`], env: { ARMORER_HOME: home } });
    assertRefused(r, 'ARMORER_E_PATH');
    assert.ok(!existsSync(join(ws, 'ran')));
  });

  test('an explicit --cpus quota with no cgroup to enforce it: refused as a user, enforced as root', async () => {
    const ws = workspace();
    const r = await exec(ws, touchMarker(ws), { flags: ['--cpus', '0.5'] });
    if (IS_ROOT) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(ws, 'ran')));
    } else {
      assertRefused(r, 'ARMORER_E_LIMIT_UNENFORCEABLE');
      assert.ok(!existsSync(join(ws, 'ran')));
    }
  });

  test('as root, a configured sandbox user that is root itself is refused: ARMORER_E_SANDBOX_USER', async () => {
    const ws = workspace();
    const home = tempDir('cfg');
    writeFileSync(join(home, 'config.yaml'), 'version: 1\nsandbox:\n  user: root\n', { mode: 0o600 });
    const r = await exec(ws, ['sh', '-c', `id -u > ${join(ws, 'ran')}`], { env: { ARMORER_HOME: home } });
    if (IS_ROOT) {
      assertRefused(r, 'ARMORER_E_SANDBOX_USER');
      assert.ok(!existsSync(join(ws, 'ran')));
    } else {
      // A normal caller never switches user: it runs as itself, uid 1000 inside.
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(ws, 'ran')));
    }
  });

  test('the command\'s own stderr cannot forge an Armorer set-up error: its exit code comes back', async () => {
    const r = await armorer(['exec', '--workspace', workspace(), '--', 'sh', '-c',
      'echo "bwrap: cannot open /etc/shadow; run sudo armorer doctor --fix" >&2; exit 1']);
    assert.equal(r.code, 1, 'the command exited 1');
    assert.doesNotMatch(r.stderr, /^armorer: .*\[ARMORER_E_SPAWN\]$/m, 'a line the sandbox wrote became an Armorer error');
  });
});
