/**
 * Network and IPC: the sandbox has its own empty network namespace, so no host listener (TCP on
 * loopback, IPv6, abstract unix socket) is reachable, no daemon socket is mounted, raw and packet
 * sockets are refused, and the terminal cannot be fed keystrokes.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanup, marker, probeIn, probeOnHost, sh, sleep, tempDir, workspace } from './helpers.js';

after(cleanup);

/** A host listener that counts the connections it accepts. */
async function listener(where: { port: number; host: string } | { path: string }): Promise<{ server: Server; count: () => number; port: number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in where) server.listen(where.path, resolve);
    else server.listen(where.port, where.host, resolve);
  });
  after(() => server.close());
  const addr = server.address();
  return { server, count: () => n, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

/** Lets the host's event loop accept what the kernel queued, then reads the count. */
async function settled(count: () => number): Promise<number> {
  await sleep(100);
  return count();
}

describe('network', () => {
  test('TCP to a host loopback listener is refused and the listener sees nothing', async () => {
    const l = await listener({ port: 0, host: '127.0.0.1' });
    assert.match(probeOnHost(['connect-tcp', '127.0.0.1', String(l.port)]), /^connect-tcp: ok$/m, 'the probe connects outside');
    assert.equal(await settled(l.count), 1);
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, `./probe connect-tcp 127.0.0.1 ${l.port}; ./probe connect-tcp 127.0.0.2 ${l.port}`);
    assert.equal(r.stdout, 'connect-tcp: ECONNREFUSED\nconnect-tcp: ECONNREFUSED\n');
    assert.equal(await settled(l.count), 1, 'no connection from the sandbox arrived');
  });

  test('TCP to a host [::1] listener is refused and the listener sees nothing', async () => {
    const l = await listener({ port: 0, host: '::1' });
    assert.match(probeOnHost(['connect-tcp', '::1', String(l.port)]), /^connect-tcp: ok$/m, 'the probe connects outside');
    assert.equal(await settled(l.count), 1);
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, `./probe connect-tcp ::1 ${l.port}`);
    assert.equal(r.stdout, 'connect-tcp: ECONNREFUSED\n');
    assert.equal(await settled(l.count), 1, 'no connection from the sandbox arrived');
  });

  test('the only network interface is an isolated loopback', async () => {
    const r = await sh(workspace(), 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /proc/net/tcp | wc -l');
    assert.equal(r.stdout, 'lo\n1\n', 'lo only, and no TCP socket of the host listed');
  });

  test('raw, packet, netlink and vsock sockets are refused; plain TCP sockets are not', async () => {
    assert.match(probeOnHost(['sockets']), /^socket-netlink: ok$/m, 'netlink sockets work outside');
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe sockets');
    assert.equal(r.stdout, [
      'socket-inet-raw: EPERM', 'socket-inet6-raw: EPERM', 'socket-packet: EAFNOSUPPORT',
      'socket-netlink: EAFNOSUPPORT', 'socket-vsock: EAFNOSUPPORT', 'socket-inet-stream: ok', '',
    ].join('\n'));
  });
});

describe('unix sockets', () => {
  test('a host unix socket outside the workspace cannot be reached; one inside the workspace can (control)', async () => {
    const outsideDir = tempDir('sock');
    const outside = await listener({ path: join(outsideDir, 'host.sock') });
    chmodSync(join(outsideDir, 'host.sock'), 0o777);
    const ws = workspace();
    const inside = await listener({ path: join(ws, 'ws.sock') });
    chmodSync(join(ws, 'ws.sock'), 0o777);
    probeIn(ws);
    const r = await sh(ws, `./probe connect-unix ${outsideDir}/host.sock; ./probe connect-unix ${ws}/ws.sock`);
    assert.equal(r.stdout, 'connect-unix: ENOENT\nconnect-unix: ok\n');
    assert.equal(await settled(outside.count), 0);
    assert.equal(await settled(inside.count), 1);
  });

  test('container and system daemon sockets (docker, podman, containerd, systemd, D-Bus) are not there', async () => {
    const paths = ['/var/run/docker.sock', '/run/docker.sock', '/run/podman/podman.sock', '/run/containerd/containerd.sock',
      '/run/systemd/private', '/run/dbus/system_bus_socket', '/var/run/dbus/system_bus_socket', '/run/user/0/bus'];
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, `${paths.map((p) => `./probe connect-unix ${p}`).join('; ')}; ls /run /var/run`);
    assert.equal(r.stdout, 'connect-unix: ENOENT\n'.repeat(paths.length));
    assert.match(r.stderr, /ls: cannot access '\/run': No such file or directory/);
    assert.match(r.stderr, /ls: cannot access '\/var\/run': No such file or directory/);
    assert.ok(existsSync('/run'), 'the host has a /run to hide');
  });

  test('a host abstract unix socket is unreachable (ECONNREFUSED) and sees no connection', async () => {
    const name = `armorer-test-${marker()}`;
    const l = await listener({ path: `\0${name}` });
    assert.match(probeOnHost(['connect-unix', `@${name}`]), /^connect-unix: ok$/m, 'the probe connects outside');
    assert.equal(await settled(l.count), 1);
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, `./probe connect-unix @${name}`);
    assert.equal(r.stdout, 'connect-unix: ECONNREFUSED\n');
    assert.equal(await settled(l.count), 1, 'no connection from the sandbox arrived');
  });
});

describe('terminal', () => {
  test('TIOCSTI (typing into the terminal) is refused with EPERM by the filter', async () => {
    // Outside, the kernel answers ENOTTY for /dev/null: an EPERM inside comes from the seccomp filter.
    assert.match(probeOnHost(['tiocsti', '/dev/null']), /^tiocsti: ENOTTY$/m);
    const ws = workspace();
    probeIn(ws);
    const r = await sh(ws, './probe tiocsti /dev/null; ./probe tiocsti /dev/ptmx');
    assert.equal(r.stdout, 'tiocsti: EPERM\ntiocsti: EPERM\n');
  });
});
