/**
 * Kernel surfaces that turn into host root when writable or reachable: core_pattern and other
 * sysctls, cgroupfs (release_agent), binfmt_misc, devices, and the syscalls the filter denies.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { cleanup, probeIn, probeOnHost, sh, workspace } from './helpers.js';

after(cleanup);

describe('kernel tunables', () => {
  test('/proc/sys/kernel/core_pattern and other sysctls cannot be written', async () => {
    const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const r = await sh(workspace(), 'cat /proc/sys/kernel/core_pattern >/dev/null && echo readable; ' +
      'echo "|/tmp/pwn" > /proc/sys/kernel/core_pattern; echo 3 > /proc/sys/vm/drop_caches; ' +
      'echo 0 > /proc/sys/kernel/randomize_va_space; echo evil > /proc/sys/kernel/hostname');
    assert.equal(r.stdout, 'readable\n');
    for (const f of ['kernel/core_pattern', 'vm/drop_caches', 'kernel/randomize_va_space', 'kernel/hostname']) {
      assert.match(r.stderr, new RegExp(`cannot create /proc/sys/${f}: Permission denied`));
    }
    assert.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), before);
  });

  test('no cgroupfs is mounted inside (release_agent), and none can be mounted', async () => {
    assert.ok(existsSync('/sys/fs/cgroup'), 'the host has one');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, 'ls /sys/fs/cgroup; grep -c cgroup /proc/self/mountinfo; ./probe mount /tmp cgroup; ./probe mount /tmp cgroup2');
    assert.match(r.stderr, /ls: cannot access '\/sys\/fs\/cgroup': No such file or directory/);
    assert.equal(r.stdout, '0\nmount: EPERM\nmount: EPERM\n');
  });

  test('binfmt_misc cannot be registered with or mounted', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, 'echo ":pwn:E::pwn::/bin/sh:" > /proc/sys/fs/binfmt_misc/register; ./probe mount /proc/sys/fs/binfmt_misc binfmt_misc');
    // Not mounted in the sandbox's own /proc (ENOENT), or, where it is, not writable.
    assert.match(r.stderr, /cannot create \/proc\/sys\/fs\/binfmt_misc\/register: (Directory nonexistent|Permission denied)/);
    assert.equal(r.stdout, 'mount: EPERM\n');
  });

  test('dmesg (syslog) is refused', async () => {
    const r = await sh(workspace(), 'dmesg');
    assert.match(r.stderr, /dmesg: read kernel buffer failed: Operation not permitted/);
    assert.equal(r.stdout, '');
  });
});

describe('devices', () => {
  const EXPECTED = ['core', 'fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'];

  test('/dev holds only the harmless devices', async () => {
    const r = await sh(workspace(), 'ls -A /dev');
    assert.deepEqual(r.stdout.trim().split('\n'), EXPECTED);
  });

  test('no block device, /dev/mem, /dev/kmsg or the host disk is there', async () => {
    const hostBlock = readdirSync('/dev').map((n) => `/dev/${n}`).filter((p) => {
      try {
        return statSync(p).isBlockDevice();
      } catch {
        return false;
      }
    });
    assert.ok(hostBlock.length > 0, 'the host has block devices to hide');
    const paths = ['/dev/mem', '/dev/kmem', '/dev/port', '/dev/kmsg', ...hostBlock.slice(0, 5)];
    const r = await sh(workspace(), `stat -L -c '%F %n' /dev/* /dev/pts/* | grep -c block; for p in ${paths.join(' ')}; do [ -e $p ] && echo "present $p"; done; true`);
    assert.equal(r.stdout, '0\n');
  });
});

describe('syscalls the filter denies', () => {
  test('io_uring, bpf, keyctl, perf_event_open, userfaultfd and syslog fail with EPERM', async () => {
    assert.match(probeOnHost(['kernel-calls']), /^keyctl: ok$/m, 'keyctl works outside');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe kernel-calls');
    assert.equal(r.stdout, ['io_uring_setup', 'bpf', 'keyctl', 'perf_event_open', 'userfaultfd', 'syslog']
      .map((n) => `${n}: EPERM\n`).join(''));
  });

  test('a syscall through the x32 ABI kills the process (SIGSYS)', { skip: process.arch !== 'x64' && 'x86_64 only' }, async () => {
    assert.match(probeOnHost(['x32-getpid']), /^x32-getpid: (ok|ENOSYS)$/m, 'outside it returns');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe x32-getpid; echo rc=$?');
    assert.equal(r.stdout, 'rc=159\n', 'killed by signal 31 before printing');
  });
});
