import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { probeCgroups } from '../../src/sandbox/cgroups.js';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup: cleanupTemp } = tempDirs('armorer-cli');
after(cleanupTemp);

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

function armorer(args: string[], env: Record<string, string> = {}, cwd = tmpdir()) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function noStackTrace(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
}

describe('armorer CLI', () => {
  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    assert.equal(armorer(['--version']).out, `${pkg.version}\n`);
  });

  test('init creates a private home with a commented config, and a second run changes nothing', () => {
    const home = join(tempDir('init'), 'h');
    const first = armorer(['init', '--json'], { ARMORER_HOME: home });
    assert.equal(first.code, 0, first.err);
    for (const d of ['', 'agents', 'secrets', 'keys', 'run']) assert.equal(statSync(join(home, d)).mode & 0o777, 0o700, d);
    assert.equal(statSync(join(home, 'config.yaml')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(home, 'config.yaml'), 'utf8'), /^# /m);
    writeFileSync(join(home, 'config.yaml'), '# mine\nversion: 1\n');
    const second = armorer(['init', '--json'], { ARMORER_HOME: home });
    assert.deepEqual((JSON.parse(second.out) as { created: string[] }).created, []);
    assert.equal(readFileSync(join(home, 'config.yaml'), 'utf8'), '# mine\nversion: 1\n', 'user edits kept');
  });

  test('policy check accepts a valid policy and explain says why each grant exists', () => {
    const dir = tempDir('pol');
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'version: 1\ngrants:\n  - scope: files.read:/usr/share/doc\n    because: read the manuals\n');
    const check = armorer(['policy', 'check', file], {}, dir);
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /valid \(version 1, 1 grant\)/);
    const explain = armorer(['policy', 'explain', file], {}, dir);
    assert.match(explain.out, /\/usr\/share\/doc/);
    assert.match(explain.out, /read the manuals/);
  });

  test('a bad policy is reported with file:line:column, a code and a fix, never a stack trace', () => {
    const dir = tempDir('pol');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\ngrants:\n  - files.raed:/tmp\n');
    const r = armorer(['policy', 'check', file], {}, dir);
    assert.equal(r.code, 125);
    assert.match(r.err, new RegExp(`${file}:3:5: .*\\[ARMORER_E_SCOPE\\]`));
    assert.match(r.err, /fix: /);
    noStackTrace(r.err);
  });

  test('bad flag values and a missing command are usage errors (exit 2) without a stack trace', () => {
    const mem = armorer(['exec', '--memory', '12X', '--', 'true']);
    assert.equal(mem.code, 2);
    assert.match(mem.err, /--memory "12X" is not a positive size/);
    noStackTrace(mem.err);
    const none = armorer(['exec']);
    assert.equal(none.code, 2);
    noStackTrace(none.err);
  });

  test('exec refuses to run in the home directory, where the sandbox would see every dotfile', () => {
    const home = tempDir('fakehome');
    const r = armorer(['exec', '--', 'true'], { HOME: home }, home);
    assert.equal(r.code, 125);
    assert.match(r.err, /\[ARMORER_E_WORKSPACE\]/);
  });

  test('doctor --json measures each guarantee and its exit code matches "usable"', () => {
    const r = armorer(['doctor', '--json'], { ARMORER_HOME: tempDir('doc') });
    const report = JSON.parse(r.out) as { usable: boolean; backends: { backend: string; guarantees: { id: string; status: string }[] }[] };
    assert.equal(r.code, report.usable ? 0 : 1);
    const bwrap = report.backends.find((b) => b.backend === 'linux-bwrap')!;
    const status = Object.fromEntries(bwrap.guarantees.map((g) => [g.id, g.status]));
    for (const id of ['user namespace', 'pid namespace', 'network isolation', 'filesystem view', 'seccomp', 'no_new_privs', 'capability drop', 'egress bridge']) {
      assert.equal(status[id], 'ok', id);
    }
    if (process.getuid!() === 0) {
      assert.equal(report.usable, true);
      for (const id of ['memory limit', 'pids limit', 'cpu limit', 'unprivileged uid']) assert.equal(status[id], 'ok', id);
    } else {
      // A normal user has a CPU quota only with a delegated cgroup; otherwise it is reported missing.
      assert.equal(status['cpu limit'], probeCgroups().parents.cpu ? 'ok' : 'missing');
    }
  });
});
