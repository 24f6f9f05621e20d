import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import type { CgroupSupport } from '../../src/sandbox/cgroups.js';
import { planLimits } from '../../src/sandbox/limits.js';
import type { SandboxSpec } from '../../src/sandbox/spec.js';

const noCgroup: CgroupSupport = { version: null, parents: {}, missing: { memory: 'x', pids: 'x', cpu: 'x' } };
const v1: CgroupSupport = { version: 1, parents: { memory: '/m', pids: '/p', cpu: '/c' }, missing: {} };

function spec(limits: SandboxSpec['limits'], origin: 'default' | 'flag'): SandboxSpec {
  const limitOrigins = Object.fromEntries(Object.keys(limits).map((k) => [k, origin]));
  return { limits, limitOrigins } as unknown as SandboxSpec;
}

describe('planLimits', () => {
  test('always sets core dumps off, and file size and open files as rlimits', () => {
    const p = planLimits(spec({ fileSizeBytes: 1024, openFiles: 64 }, 'default'), v1);
    assert.deepEqual(p.rlimits, ['--core=0:0', '--fsize=1024:1024', '--nofile=64:64']);
    assert.equal(p.cgroup, null);
  });

  test('puts memory, pids and cpu in a cgroup when one can be made', () => {
    const p = planLimits(spec({ memoryBytes: 1 << 20, pids: 5, cpus: 0.5 }, 'flag'), v1);
    assert.deepEqual(p.cgroup, { memoryBytes: 1 << 20, pids: 5, cpus: 0.5 });
    assert.deepEqual(p.notices, []);
  });

  test('without a cgroup, falls back to rlimits for memory and pids and says so', () => {
    const p = planLimits(spec({ memoryBytes: 1 << 20, pids: 5 }, 'flag'), noCgroup);
    assert.ok(p.rlimits.includes('--data=1048576:1048576'));
    assert.ok(p.rlimits.includes('--nproc=5:5'));
    assert.equal(p.notices.length, 2);
  });

  test('refuses an explicitly requested CPU quota it cannot enforce', () => {
    assert.throws(() => planLimits(spec({ cpus: 1 }, 'flag'), noCgroup),
      (e) => isArmorerError(e) && e.code === 'ARMORER_E_LIMIT_UNENFORCEABLE');
  });

  test('drops a default CPU quota it cannot enforce only with a notice', () => {
    const p = planLimits(spec({ cpus: 2 }, 'default'), noCgroup);
    assert.match(p.notices[0]!, /NOT enforced/);
  });
});
