import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compilePolicy, defaultPolicy } from '../../src/policy/index.js';
import { bwrapArgs, dataSources } from '../../src/sandbox/bwrap/args.js';
import { planProtection } from '../../src/sandbox/bwrap/protect.js';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup: cleanupTemp } = tempDirs('armorer-args');
after(cleanupTemp);

const root = realpathSync(tempDir('args'));
const ws = join(root, 'ws');
mkdirSync(ws);
const spec = compilePolicy(defaultPolicy(), { command: ['echo', 'hi'], workspace: ws, armorerHome: join(root, 'state'), hostEnv: {} });

describe('bwrapArgs', () => {
  const args = bwrapArgs(spec, planProtection(spec.protectedPaths), { seccomp: 3, info: 4, ready: 5, firstData: 7 });

  test('unshares every namespace, drops capabilities and disables nested user namespaces', () => {
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net',
      '--unshare-cgroup-try', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) {
      assert.ok(args.includes(flag), flag);
    }
    assert.deepEqual(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
    assert.deepEqual(args.slice(args.indexOf('--seccomp'), args.indexOf('--seccomp') + 2), ['--seccomp', '3']);
  });

  test('ends with the command after --, behind the ready marker, and clears the environment first', () => {
    assert.deepEqual(args.slice(-2), ['echo', 'hi']);
    assert.deepEqual(args.slice(args.indexOf('--'), args.indexOf('--') + 3), ['--', '/bin/sh', '-c']);
    assert.match(args[args.indexOf('--') + 3]!, /^printf \. >&5; exec 5>&-; exec "\$@"$/);
    assert.ok(args.indexOf('--clearenv') < args.indexOf('--setenv'));
  });

  test('numbers data fds in the order dataSources lists them', () => {
    const data = dataSources(spec, []);
    const fds = args.flatMap((a, i) => (a === '--ro-bind-data' ? [Number(args[i + 1])] : []));
    assert.equal(fds.length, data.length + planProtection(spec.protectedPaths).filter((p) => p.kind === 'empty-file').length);
    assert.deepEqual(fds, fds.map((_, i) => 7 + i));
  });
});

test('remounts the sandbox root and /dev read-only after every other mount', () => {
  const args = bwrapArgs(spec, [], { seccomp: 3, info: 4, ready: 5, firstData: 7 });
  const end = args.indexOf('--clearenv');
  assert.deepEqual(args.slice(end - 4, end), ['--remount-ro', '/dev', '--remount-ro', '/']);
});

describe('planProtection', () => {
  test('binds an existing protected file onto itself read-only, pinning the directory above it', () => {
    const dir = join(root, 'p1');
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, '.git', 'config'), '[core]\n');
    assert.deepEqual(planProtection([{ root: dir, rel: '.git/config' }]), [
      { kind: 'pin', path: `${dir}/.git` }, { kind: 'bind-ro', path: `${dir}/.git/config` }]);
  });

  test('covers the first missing component, so .git cannot be created when it is absent', () => {
    const dir = join(root, 'p2');
    mkdirSync(dir);
    assert.deepEqual(planProtection([{ root: dir, rel: '.git/hooks/' }, { root: dir, rel: '.git/config' }]),
      [{ kind: 'empty-dir', path: `${dir}/.git` }]);
  });

  test('uses an empty read-only file for a missing file and a directory for a missing directory', () => {
    const dir = join(root, 'p3');
    mkdirSync(join(dir, '.git'), { recursive: true });
    assert.deepEqual(planProtection([{ root: dir, rel: '.git/hooks/' }, { root: dir, rel: '.git/config' }]), [
      { kind: 'pin', path: `${dir}/.git` },
      { kind: 'empty-dir', path: `${dir}/.git/hooks` }, { kind: 'empty-file', path: `${dir}/.git/config` }]);
  });

  test('freezes a file standing where a directory is expected (a worktree\'s .git file)', () => {
    const dir = join(root, 'p4');
    mkdirSync(dir);
    writeFileSync(join(dir, '.git'), 'gitdir: /elsewhere\n');
    assert.deepEqual(planProtection([{ root: dir, rel: '.git/hooks/' }]), [{ kind: 'bind-ro', path: `${dir}/.git` }]);
  });
});
