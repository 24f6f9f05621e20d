import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDirs } from '../lib/temp.js';

const { tempDir, cleanup: cleanupTemp } = tempDirs('armorer-crash');
after(cleanupTemp);

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

function sandboxAclEntries(dir: string): number {
  return execFileSync('getfacl', ['-p', '-n', dir]).toString().split('\n')
    .filter((l) => /^(default:)?user:\d+:/.test(l)).length;
}

function sleepersWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

test('a supervisor killed with SIGKILL leaves no process, and the next run restores ACLs and cgroups', async () => {
  const ws = tempDir('crash');
  chmodSync(ws, 0o755);
  const home = tempDir('crash-home');
  const env = { ...process.env, ARMORER_HOME: home };
  const aclBefore = process.getuid!() === 0 ? sandboxAclEntries(ws) : 0;
  const marker = `${Math.floor(Math.random() * 1e6)}`;
  const child = spawn(process.execPath, [MAIN, 'exec', '--workspace', ws, '--', 'sleep', `300.${marker}`],
    { env, stdio: 'ignore' });
  let started = false;
  for (let i = 0; i < 100 && !started; i++) {
    await sleep(50);
    started = sleepersWith(`300.${marker}`).some((pid) => pid !== child.pid);
  }
  assert.ok(started, 'the sandboxed sleep started');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // --die-with-parent: bwrap and everything in its pid namespace go with the supervisor.
  let left = sleepersWith(`300.${marker}`);
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await sleep(50);
    left = sleepersWith(`300.${marker}`);
  }
  assert.deepEqual(left, [], 'no sandboxed process outlives its supervisor');

  const next = execFileSync(process.execPath, [MAIN, 'exec', '--workspace', ws, '--', 'true'], { env });
  assert.equal(next.length, 0);
  if (process.getuid!() === 0) {
    assert.equal(sandboxAclEntries(ws), aclBefore, 'ACLs back to what they were before the killed run');
    const armorerCgroups = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu']
      .map((d) => join(d, 'armorer')).filter(existsSync);
    const stale = armorerCgroups.flatMap((d) => readdirSync(d).filter((n) => n.startsWith(`${child.pid}-`)));
    assert.deepEqual(stale, [], 'the killed run\'s cgroups were swept');
  }
});
