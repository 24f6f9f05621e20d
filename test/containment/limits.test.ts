/**
 * Resource limits. As root they are cgroup limits on the whole sandbox; as a normal user they are
 * rlimits (per process or per user), announced on stderr. Either way the host and the test
 * process stay fine, and each test asserts what that caller is promised.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanup, exec, hostPidsWith, IS_ROOT, marker, probeIn, sh, sleep, tempDir, workspace } from './helpers.js';

after(cleanup);

const MiB = 1024 * 1024;

describe('processes and memory', () => {
  test('a process-creating loop stops at --pids 64 (EAGAIN)', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await exec(ws, ['./probe', 'forks', '1000'], { flags: ['--pids', '64', '--timeout', '10'] });
    const forked = Number(/^forked (\d+)$/m.exec(r.stdout)?.[1]);
    assert.match(r.stdout, /^fork: EAGAIN$/m);
    assert.ok(forked > 0 && forked < 64, `forked ${forked}`);
    assert.equal(r.code, 0);
    if (!IS_ROOT) assert.match(r.stderr, /process limit 64 enforced per user \(RLIMIT_NPROC\)/);
  });

  test('a fork bomb stays under --pids 64, the host stays responsive, and nothing survives', async () => {
    const ws = workspace();
    probeIn(ws);
    const tag = `bomb-${marker()}`;
    // The counter samples the pid namespace mid-bomb; every bomb process gives up at 2.5 s.
    const script = `./probe count-procs 1.5 & ./probe forkbomb 2.5 ${tag}; wait; echo done`;
    let hostSpawnMs = -1;
    const r = await sh(ws, script, {
      flags: ['--pids', '64', '--timeout', '10'],
      onStart: () => {
        setTimeout(() => {
          const t = Date.now();
          spawnSync('/bin/true');
          hostSpawnMs = Date.now() - t;
        }, 1000);
      },
    });
    const procs = Number(/^procs (\d+)$/m.exec(r.stdout)?.[1]);
    assert.ok(procs > 10 && procs <= 64, `processes visible inside at the peak: ${procs}`);
    assert.match(r.stdout, /^done$/m);
    assert.ok(r.ms < 10_000, `the run ended on its own (${r.ms} ms)`);
    assert.ok(hostSpawnMs >= 0 && hostSpawnMs < 1000, `the host could still start a process (${hostSpawnMs} ms)`);
    let left = hostPidsWith(tag);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await sleep(50);
      left = hostPidsWith(tag);
    }
    assert.deepEqual(left, [], 'no bomb process outlives the run');
  });

  test('a memory bomb is stopped at --memory 128M (root: OOM kill; user: allocation fails)', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await exec(ws, ['./probe', 'alloc', '1024'], { flags: ['--memory', '128M', '--timeout', '20'] });
    const peak = Math.max(0, ...[...r.stdout.matchAll(/^allocated (\d+) MiB$/gm)].map((m) => Number(m[1])));
    assert.ok(peak > 0 && peak <= 128, `allocated at most the limit: ${peak} MiB`);
    assert.doesNotMatch(r.stdout, /alloc: all/);
    if (IS_ROOT) {
      assert.equal(r.code, 137);
      assert.match(r.stderr, /armorer: the kernel killed \d+ process\(es\) at the 128MiB memory limit/);
    } else {
      assert.equal(r.code, 3);
      assert.match(r.stdout, /^alloc failed at \d+ MiB: ENOMEM$/m);
      assert.match(r.stderr, /memory limit 128MiB enforced per process \(RLIMIT_DATA\)/);
    }
    assert.ok(r.ms < 20_000);
  });
});

describe('disk', () => {
  test('a file larger than limits.fileSize cannot be written (SIGXFSZ, then "File too large")', async () => {
    const ws = workspace();
    const policy = join(tempDir('policy'), 'limits.yaml');
    writeFileSync(policy, 'version: 1\nlimits:\n  fileSize: 8M\n', { mode: 0o644 });
    const r = await sh(ws, 'dd if=/dev/zero of=a bs=1M count=16 2>/dev/null; echo rc=$?; ' +
      '(trap "" XFSZ; dd if=/dev/zero of=b bs=1M count=16); echo rc=$?', { flags: ['--policy', policy] });
    assert.equal(r.stdout, 'rc=153\nrc=1\n', 'killed by SIGXFSZ (128+25), then EFBIG with the signal ignored');
    assert.match(r.stderr, /dd: error writing 'b': File too large/);
    assert.equal(statSync(join(ws, 'a')).size, 8 * MiB);
    assert.equal(statSync(join(ws, 'b')).size, 8 * MiB);
  });

  test('every writable tmpfs (/tmp, /var/tmp, HOME, /dev/shm) is bounded by the memory limit', async () => {
    const cap = 64 * MiB;
    const dirs = ['/tmp', '/var/tmp', '/home/agent', '/dev/shm'];
    // Each is emptied again so that, under a cgroup, one full tmpfs does not starve the next.
    const script = dirs.map((d) => `dd if=/dev/zero of=${d}/fill bs=1M count=100 2>/dev/null; echo "$? $(stat -c %s ${d}/fill) ${d}"; rm -f ${d}/fill`).join('; ');
    const r = await sh(workspace(), script, { flags: ['--memory', '64M', '--timeout', '20'] });
    const rows = r.stdout.trim().split('\n').map((l) => l.split(' '));
    assert.deepEqual(rows.map((row) => row[2]), dirs);
    for (const [rc, size, dir] of rows) {
      assert.ok(Number(size) <= cap, `${dir}: ${size} bytes written, above ${cap}`);
      // As a user: ENOSPC at the tmpfs size (dd exits 1). As root the cgroup may OOM-kill dd first (137).
      assert.ok(rc === '1' || (IS_ROOT && rc === '137'), `${dir}: dd exited ${rc}`);
    }
  });
});

describe('time', () => {
  test('a CPU spin is stopped by --timeout 2: exit 124 and ARMORER_E_TIMEOUT within seconds', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await exec(ws, ['./probe', 'spin', '30'], { flags: ['--timeout', '2'] });
    assert.equal(r.code, 124);
    assert.match(r.stderr, /^armorer: time limit of 2s reached: stopping the sandbox \[ARMORER_E_TIMEOUT\]$/m);
    assert.equal(r.stdout, '', 'the spin never finished');
    assert.ok(r.ms >= 2000 && r.ms < 6000, `took ${r.ms} ms`);
  });

  test('a command that ignores SIGTERM is killed after the grace period: still exit 124', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, 'trap "" TERM; ./probe spin 30', { flags: ['--timeout', '1'] });
    assert.equal(r.code, 124);
    assert.match(r.stderr, /\[ARMORER_E_TIMEOUT\]/);
    assert.ok(r.ms >= 3500 && r.ms < 8000, `1 s limit + 3 s grace, took ${r.ms} ms`);
  });

  test('--cpus 0.5 throttles a spin as root, and is refused as a user (ARMORER_E_LIMIT_UNENFORCEABLE)', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await exec(ws, ['./probe', 'spin', '1.5'], { flags: ['--cpus', '0.5'] });
    if (IS_ROOT) {
      assert.equal(r.code, 0, r.stderr);
      const cpuMs = Number(/^cpu_ms (\d+)$/m.exec(r.stdout)?.[1]);
      assert.ok(cpuMs > 0 && cpuMs < 1050, `0.5 core for 1.5 s is ~750 ms of CPU; got ${cpuMs}`);
      const control = await exec(ws, ['./probe', 'spin', '1.5']);
      const fullMs = Number(/^cpu_ms (\d+)$/m.exec(control.stdout)?.[1]);
      assert.ok(fullMs > cpuMs * 1.4, `without --cpus the same spin got ${fullMs} ms (throttled: ${cpuMs})`);
    } else {
      assert.equal(r.code, 125);
      assert.equal(r.stdout, '', 'the command never ran');
      assert.match(r.stderr, /^armorer: the requested cpus limit cannot be enforced: .*\[ARMORER_E_LIMIT_UNENFORCEABLE\]$/m);
    }
  });
});
