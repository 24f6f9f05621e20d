/**
 * The proxy is the only way out. With egress on, the sandbox still lives in its own network
 * namespace (the bridge's): the host's loopback listeners (TCP, IPv6, UDP) are not reachable,
 * names do not resolve inside, and when the bridge dies there is no network at all, no fallback.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanup, closeAll, httpUpstream, runEgress, sleep, waitForFile, type Upstream } from './helpers.js';

let up: Upstream;
before(async () => { up = await httpUpstream(); });
after(() => {
  closeAll(up);
  cleanup();
});

/** A host TCP listener that counts what it accepts. */
async function tcpListener(host: string): Promise<{ server: Server; port: number; count: () => number }> {
  let n = 0;
  const server = createServer((s) => { n++; s.destroy(); });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  after(() => server.close());
  return { server, port: (server.address() as AddressInfo).port, count: () => n };
}

/** `sh -c SCRIPT` with `$0` set to ARG (a Node script, without shell quoting). */
const shWith = (script: string, arg: string) => ['/bin/sh', '-c', script, arg];

describe('no other route out', () => {
  test('TCP to the host\'s 127.0.0.1 and [::1] listeners fails and they see nothing', async () => {
    const v4 = await tcpListener('127.0.0.1');
    const v6 = await tcpListener('::1');
    const js = `const net = require('net');
      const probe = (host, port) => new Promise((r) => { const s = net.connect(port, host);
        s.setTimeout(3000, () => { s.destroy(); r('timeout'); });
        s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r(e.code)); });
      (async () => { for (const [h, p] of [['127.0.0.1', ${v4.port}], ['127.0.0.2', ${v4.port}], ['::1', ${v6.port}], ['::1', 3128]])
        console.log(h, p, await probe(h, p)); })();`;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${up.port}`],
      command: shWith(`curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:${v4.port}/; echo "curl rc=$?"; node -e "$0"`, js),
    });
    assert.equal(r.stdout, `curl rc=7\n127.0.0.1 ${v4.port} ECONNREFUSED\n127.0.0.2 ${v4.port} ECONNREFUSED\n` +
      `::1 ${v6.port} ECONNREFUSED\n::1 3128 ECONNREFUSED\n`, r.stderr);
    await sleep(100);
    assert.equal(v4.count(), 0, 'the host 127.0.0.1 listener saw nothing');
    assert.equal(v6.count(), 0, 'the host [::1] listener saw nothing');
    assert.deepEqual(r.events, [], 'and the proxy saw nothing either');
  });

  test('UDP to a host loopback socket arrives nowhere, and names do not resolve inside', async () => {
    const udp = createSocket('udp4');
    const got: Buffer[] = [];
    udp.on('message', (m) => got.push(m));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    after(() => udp.close());
    const port = udp.address().port;
    // A DNS query for api.test (id 0x1234, RD), then a plain datagram.
    const query = '12340100000100000000000003617069047465737400000100 01'.replace(/ /g, '');
    const js = `const d = require('dgram').createSocket('udp4'), dns = require('dns');
      const send = (b) => new Promise((r) => d.send(b, ${port}, '127.0.0.1', (e) => r(e ? e.code : 'sent')));
      (async () => {
        console.log('dns-query', await send(Buffer.from('${query}', 'hex')));
        console.log('datagram', await send(Buffer.from('ping')));
        await new Promise((r) => setTimeout(r, 200));
        d.close();
        dns.lookup('api.test', (e, a) => console.log('lookup', e ? e.code : a));
      })();`;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${up.port}`],
      command: shWith('getent hosts api.test; echo "getent rc=$?"; getent hosts localhost >/dev/null; echo "localhost rc=$?"; node -e "$0"', js),
    });
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), ['getent rc=2', 'localhost rc=0', 'dns-query sent', 'datagram sent'], r.stdout + r.stderr);
    assert.match(lines[4] ?? '', /^lookup (ENOTFOUND|EAI_AGAIN)$/);
    await sleep(300);
    assert.equal(got.length, 0, 'the host UDP socket received nothing');
    assert.deepEqual(r.resolved, [], 'no lookup reached the proxy\'s resolver');
  });
});

/** Pids whose parent is this process and whose command line contains `marker`. */
function childrenWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

describe('proxy gone', () => {
  test('killing the bridge mid-run leaves the sandbox with no network, not a way around the proxy', async () => {
    const H = up.port;
    let bridgePids: number[] = [];
    const script = [
      `curl -sS --max-time 5 http://api.test:${H}/before-kill; echo "rc=$?"`,
      'touch ready; i=0; while [ ! -f killed ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
      `curl -sS --max-time 5 http://api.test:${H}/after-kill; echo "rc=$?"`,
      `curl -sS --max-time 5 --noproxy '*' http://127.0.0.1:${H}/after-kill-direct; echo "rc=$?"`,
    ].join('\n');
    const r = await runEgress({
      grants: [`net.outbound:api.test:${H}`], command: ['/bin/sh', '-c', script],
      during: async ({ ws }) => {
        assert.ok(await waitForFile(join(ws, 'ready')), 'the sandbox reached its first checkpoint');
        // The bridge: this process's child running `node -e <code with net.createServer>`.
        bridgePids = childrenWith('net.createServer');
        assert.equal(bridgePids.length, 1, `one bridge process: ${bridgePids.join(',')}`);
        process.kill(bridgePids[0]!, 'SIGKILL');
        for (let i = 0; i < 100 && childrenWith('net.createServer').length > 0; i++) await sleep(20);
        writeFileSync(join(ws, 'killed'), '');
      },
    });
    assert.equal(bridgePids.length, 1);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, ['upstream saw GET /before-kill', 'rc=0', 'rc=7', 'rc=7'], r.stdout + r.stderr);
    assert.match(r.stderr, /curl: \(7\) Failed to connect to 127\.0\.0\.1 port 3128 after \d+ ms: (Couldn't connect to server|Connection refused)/);
    assert.deepEqual(up.requests.filter((q) => q.includes('kill')), [`GET /before-kill host=api.test:${H}`]);
    assert.equal(r.events.length, 1);
  });
});
