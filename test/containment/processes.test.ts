/**
 * Processes and privileges: the sandbox sees and signals only its own processes, holds no
 * capability and cannot gain one, inherits no secret of its caller, and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { armorer, cleanup, exec, hostPidsWith, IS_ROOT, marker, probeIn, probeOnHost, sh, sleep, workspace } from './helpers.js';

after(cleanup);

const sleepers: ReturnType<typeof spawn>[] = [];
after(() => { for (const c of sleepers) c.kill('SIGKILL'); });

function hostSleeper(tag: string) {
  const child = spawn('sleep', [`60.${tag}`], { stdio: 'ignore' });
  sleepers.push(child);
  return child;
}

/** A /proc/PID file, or '' once the process is gone. */
function procText(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('host processes', () => {
  test('a host process is neither visible in /proc nor signalable from inside', async () => {
    const tag = marker();
    const host = hostSleeper(tag);
    const pid = host.pid!;
    const r = await sh(workspace(), `ls /proc | grep -cx ${pid}; kill -0 ${pid}; echo kill=$?; ` +
      `cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l`);
    const [seen, killed, cmdlines, count] = r.stdout.split('\n');
    assert.equal(seen, '0', 'the host pid is not listed');
    assert.equal(killed, 'kill=1');
    assert.match(r.stderr, /kill: No such process/);
    assert.ok(!cmdlines!.includes(tag), 'no host command line is readable');
    assert.ok(Number(count) <= 5, `only the sandbox's own few processes: ${count}`);
    assert.ok(alive(pid), 'the host process is untouched');
  });

  test('kill -KILL -1 inside reaches no host process', async () => {
    const host = hostSleeper(marker());
    const r = await sh(workspace(), 'kill -KILL -1; echo survived');
    assert.equal(r.stdout, 'survived\n');
    assert.ok(alive(host.pid!), 'the host sleeper survived');
  });

  test('the command runs on the host as the dedicated sandbox user (root caller) or as the caller, never as root', async () => {
    const tag = marker();
    let hostUid: number | undefined;
    await exec(workspace(), ['sleep', `1.${tag}`], {
      onStart: () => {
        const poll = setInterval(() => {
          try {
            const [pid] = hostPidsWith(`1.${tag}`).filter((p) => procText(p, 'comm').trim() === 'sleep');
            if (pid === undefined) return;
            hostUid = Number(/^Uid:\t(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
            clearInterval(poll);
          } catch { /* it exited between two reads: try again */ }
        }, 20);
        setTimeout(() => clearInterval(poll), 1500).unref();
      },
    });
    assert.notEqual(hostUid, undefined, 'the sandboxed sleep was seen on the host');
    if (IS_ROOT) {
      const sandboxUid = Number(/^armorer-sandbox:x:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))![1]);
      assert.equal(hostUid, sandboxUid);
    } else {
      assert.equal(hostUid, process.getuid!());
    }
  });
});

describe('secrets of the caller', () => {
  const SECRET = `tok-${marker()}-do-not-leak`;

  test('the caller\'s environment appears nowhere: env, /proc/*/environ, /proc/*/cmdline', async () => {
    const r = await sh(workspace(), 'env; echo ===; for f in /proc/[0-9]*/environ; do cat $f; echo; done | tr "\\0" "\\n"; ' +
      'echo ===; cat /proc/[0-9]*/cmdline | tr "\\0" " "', { env: { SECRET_TOKEN: SECRET } });
    const [env, environs, cmdlines] = r.stdout.split('===\n');
    assert.match(env!, /^HOME=\/home\/agent$/m, 'env was listed');
    assert.match(environs!, /^PATH=\/usr\/sbin:\/usr\/bin:\/sbin:\/bin$/m, '/proc/1/environ (bwrap\'s own) was read');
    assert.ok(cmdlines!.includes('bwrap'), '/proc/1/cmdline was read');
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), 'the secret leaked');
    assert.doesNotMatch(r.stdout, /SECRET_TOKEN/);
  });

  test('--env SECRET_TOKEN passes it in (control)', async () => {
    const r = await sh(workspace(), 'printenv SECRET_TOKEN', { env: { SECRET_TOKEN: SECRET }, flags: ['--env', 'SECRET_TOKEN'] });
    assert.equal(r.stdout, `${SECRET}\n`);
  });

  test('a value passed with --env is not on any host command line (ps shows argv to every user)', async () => {
    let seenOnHost: string[] = [];
    let sandboxSeen = false;
    const r = await sh(workspace(), 'printenv SECRET_TOKEN; sleep 1', {
      env: { SECRET_TOKEN: SECRET }, flags: ['--env', 'SECRET_TOKEN'],
      onStart: (_child, out) => {
        const poll = setInterval(() => {
          if (!out.stdout().includes(SECRET)) return;
          sandboxSeen = true;
          seenOnHost = hostPidsWith(SECRET).map((p) => `${p} ${procText(p, 'comm').trim()}`);
          clearInterval(poll);
        }, 20);
        setTimeout(() => clearInterval(poll), 3000).unref();
      },
    });
    assert.equal(r.stdout, `${SECRET}\n`);
    assert.ok(sandboxSeen, 'the host looked while the sandbox was running');
    assert.deepEqual(seenOnHost, [], 'host processes whose argv holds the secret');
  });
});

describe('privileges', () => {
  test('/proc/self/status shows no capability, no_new_privs and a seccomp filter', async () => {
    const r = await exec(workspace(), ['cat', '/proc/self/status']);
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      assert.match(r.stdout, new RegExp(`^${cap}:\\t0000000000000000$`, 'm'));
    }
    assert.match(r.stdout, /^NoNewPrivs:\t1$/m);
    assert.match(r.stdout, /^Seccomp:\t2$/m);
    assert.match(r.stdout, /^Uid:\t1000\t1000\t1000\t1000$/m);
  });

  test('ptrace and process_vm_readv are refused with EPERM', async () => {
    assert.match(probeOnHost(['ptrace-traceme']), /^ptrace-traceme: ok$/m, 'the probe works outside');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe ptrace-traceme; ./probe ptrace-attach 1; ./probe process-vm-readv 1; ' +
      'sleep 5 & ./probe ptrace-attach $!; kill $!');
    assert.equal(r.stdout, 'ptrace-traceme: EPERM\nptrace-attach: EPERM\nprocess-vm-readv: EPERM\nptrace-attach: EPERM\n');
  });

  test('mount and a new mount namespace are refused with EPERM', async () => {
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe mount /tmp; ./probe mount /home/agent; ./probe unshare-mount');
    assert.equal(r.stdout, 'mount: EPERM\nmount: EPERM\nunshare-mount: EPERM\n');
  });

  test('a nested user namespace (unshare -U, unshare -r) cannot be made', async () => {
    assert.match(probeOnHost(['unshare-user']), /^unshare-user: ok$/m, 'user namespaces work outside');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe unshare-user; unshare -U id -u; unshare -r id -u');
    // bwrap --disable-userns sets the nested limit to zero: the kernel answers ENOSPC.
    assert.equal(r.stdout, 'unshare-user: ENOSPC\n');
    assert.equal(r.stderr.match(/unshare: unshare failed: No space left on device/g)?.length, 2, r.stderr);
  });

  test('set-uid-root programs run without gaining privileges', async () => {
    const setuid = ['/usr/bin/su', '/usr/bin/sudo', '/usr/bin/mount', '/usr/bin/passwd', '/usr/bin/newgrp']
      .filter((p) => existsSync(p) && (statSync(p).mode & 0o4000) !== 0 && statSync(p).uid === 0);
    assert.ok(setuid.length > 0, 'at least one set-uid-root program to try');
    const ws = workspace();
    const lib = probeIn(ws, 'euid-preload.so');
    // If an exec raised privileges, the dynamic linker would ignore the preload and the program would run.
    const r = await sh(ws, setuid.map((p) => `LD_PRELOAD=${lib} ${p}`).join('; ') + '; su -c id root </dev/null; echo su=$?');
    assert.equal(r.stdout, `${'preload uid=1000 euid=1000\n'.repeat(setuid.length)}su=1\n`);
    if (IS_ROOT) {
      // Only root can plant a set-uid-root binary in the workspace: it too runs as the sandbox user.
      const suid = join(ws, 'probe-suid');
      copyFileSync(probeIn(ws), suid);
      chownSync(suid, 0, 0);
      chmodSync(suid, 0o4755);
      const planted = await exec(ws, [suid, 'ids']);
      assert.equal(planted.stdout, 'uid=1000 euid=1000 gid=1000 egid=1000\n');
    }
  });

});

describe('process lifetime', () => {
  test('a daemonised orphan (setsid nohup ... &) does not outlive the run', async () => {
    const tag = `299.${marker()}`;
    let seenOnHost = false;
    const r = await sh(workspace(), `setsid nohup sleep ${tag} >/dev/null 2>&1 & (sleep ${tag} &) ; sleep 0.5; echo started`, {
      onStart: () => {
        const poll = setInterval(() => { if (hostPidsWith(tag).length > 0) seenOnHost = true; }, 25);
        setTimeout(() => clearInterval(poll), 600).unref();
      },
    });
    assert.equal(r.stdout, 'started\n');
    assert.equal(r.code, 0);
    assert.ok(seenOnHost, 'the orphans were running during the run');
    let left = hostPidsWith(tag);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await sleep(50);
      left = hostPidsWith(tag);
    }
    assert.deepEqual(left, [], 'no sandboxed process remains');
  });

  // As root the run's cgroup is swept, so nothing survives. Without root there is no cgroup, and
  // bubblewrap 0.8 has a window of its own: its sandbox-side process arms --die-with-parent only
  // after it is cloned, so a supervisor SIGKILLed in those few microseconds can leave an
  // unsupervised (still fully confined) sandbox. Reproduced on this machine in about 1 launch in 10
  // under this test; documented in docs/threat-model.md ("Process lifetime").
  test('a supervisor killed while it is still launching the sandbox leaves nothing behind', {
    skip: IS_ROOT ? false : 'without root there is no cgroup to sweep; see the comment above and the threat model',
  }, async () => {
    // The window between spawning the launcher and arming its parent-death signal: kill armorer
    // the moment any process of the run appears, a few times over.
    const leaked: string[] = [];
    const tags: string[] = [];
    const reap = (tag: string, attempt: number) => {
      for (const pid of hostPidsWith(tag)) {
        leaked.push(`${procText(pid, 'comm').trim()} (pid ${pid}, attempt ${attempt})`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch { /* gone */ }
      }
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      const tag = `298.${marker()}`;
      tags.push(tag);
      const run = armorer(['exec', '--workspace', workspace(), '--', 'sleep', tag], { timeoutMs: 10_000 });
      let supervisor = -1;
      for (let i = 0; i < 3000 && supervisor < 0; i++) {
        const pids = hostPidsWith(tag);
        const own = pids.find((p) => procText(p, 'cmdline').includes('main.js'));
        if (own !== undefined && pids.length > 1) supervisor = own;
        else await sleep(1);
      }
      if (supervisor > 0) process.kill(supervisor, 'SIGKILL');
      await run;
      let left = hostPidsWith(tag);
      for (let i = 0; i < 30 && left.length > 0; i++) {
        await sleep(50);
        left = hostPidsWith(tag);
      }
      if (left.length > 0) reap(tag, attempt);
    }
    // A launcher caught mid-exec shows up late: one last sweep, so that nothing is left running.
    await sleep(300);
    tags.forEach((tag, attempt) => reap(tag, attempt));
    assert.deepEqual(leaked, [], 'processes of the run outlived their supervisor');
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`${sig} to armorer reaches the command, and its exit code comes back`, async () => {
      const name = sig.slice(3);
      const script = `trap 'echo got ${name}; exit 7' ${name}; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo not-signalled`;
      const r = await sh(workspace(), script, {
        onStart: (child, out) => {
          const poll = setInterval(() => {
            if (!out.stdout().includes('ready')) return;
            clearInterval(poll);
            child.kill(sig);
          }, 20);
          setTimeout(() => clearInterval(poll), 8000).unref();
        },
      });
      assert.equal(r.stdout, `ready\ngot ${name}\n`);
      assert.equal(r.code, 7);
      assert.ok(r.ms < 8000, `ended promptly (${r.ms} ms)`);
    });
  }
});
