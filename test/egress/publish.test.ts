/**
 * --publish: a server inside the sandbox (an agent's gateway or UI) reachable from the host through
 * a host listener on loopback only; each host connection becomes a fresh connection opened by the
 * bridge inside the sandbox's network namespace. parsePublish refuses every other interface.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Bridge } from '../../src/egress/bridge.js';
import { parsePublish, publishPorts } from '../../src/egress/publish.js';
import { ArmorerError } from '../../src/core/errors.js';
import { cleanup, freePort, runEgress, waitForFile } from './helpers.js';

after(cleanup);

const fetchText = (port: number, host = '127.0.0.1') => new Promise<string>((resolve, reject) => {
  get({ host, port, path: '/from-host', agent: false, timeout: 5000 }, (res) => {
    let b = '';
    res.on('data', (c: Buffer) => { b += c.toString(); }).on('end', () => resolve(`${res.statusCode} ${b}`));
  }).on('error', reject).on('timeout', function (this: { destroy(): void }) { this.destroy(); });
});

/** What a host client gets from a port: data, then how it ended. */
const rawClient = (port: number) => new Promise<string>((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  let data = '';
  s.setTimeout(3000, () => { s.destroy(); resolve(`timeout ${data}`); });
  s.on('data', (c) => { data += c.toString(); });
  s.on('close', () => resolve(`closed ${JSON.stringify(data)}`));
  s.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
});

/** Listening TCP sockets on `port` in this (the host's) network namespace, as ADDRESS text. */
function listeners(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].flatMap((f) => readFileSync(`/proc/net/${f}`, 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/)).filter((c) => c[1]?.endsWith(`:${hex}`) && c[3] === '0A').map((c) => `${f} ${c[1]}`));
}

describe('publish', () => {
  test('a server inside the sandbox is reachable from the host on loopback only, and only during the run', async () => {
    const [hp, hpNone] = [await freePort(), await freePort()];
    const server = `const http = require('http'), fs = require('fs');
      http.createServer((req, res) => { res.end('inside sandbox ' + req.url + '\\n'); setTimeout(() => process.exit(0), 100); })
        .listen(8000, '127.0.0.1', () => fs.writeFileSync('ready', ''));
      setTimeout(() => process.exit(3), 15000);`;
    const seen: Record<string, unknown> = {};
    const r = await runEgress({
      publish: [parsePublish(`127.0.0.1:${hp}:8000`), parsePublish(`127.0.0.1:${hpNone}:8001`)],
      command: ['node', '-e', server],
      during: async ({ ws }) => {
        assert.ok(await waitForFile(join(ws, 'ready')), 'the inside server started');
        seen['listeners'] = listeners(hp);
        seen['none'] = await rawClient(hpNone);
        seen['body'] = await fetchText(hp);
      },
    });
    assert.equal(r.result.exitCode, 0, r.stderr);
    assert.equal(seen['body'], '200 inside sandbox /from-host\n');
    assert.deepEqual(seen['listeners'], [`tcp 0100007F:${hp.toString(16).toUpperCase().padStart(4, '0')}`],
      'one listener, on 127.0.0.1, none on 0.0.0.0 or ::');
    assert.equal(seen['none'], 'closed ""', 'nothing listening inside: the host connection is closed, no data');
    assert.deepEqual(listeners(hp), [], 'the host listener is gone after the run');
    assert.equal(await rawClient(hp), 'ECONNREFUSED');
    assert.deepEqual(r.events, [], 'published connections are inbound: they never pass the egress proxy');
  });

  test('publishPorts binds exactly the loopback address asked for and forwards through the bridge', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((res) => echo.listen(0, '127.0.0.1', res));
    after(() => echo.close());
    const opened: number[] = [];
    const bridge = {
      open: (port: number) => new Promise<net.Socket>((res, rej) => {
        opened.push(port);
        const s = net.connect((echo.address() as AddressInfo).port, '127.0.0.1', () => res(s)).once('error', rej);
      }),
    } as unknown as Bridge;
    const [p4, p6] = [await freePort(), await freePort()];
    const servers = await publishPorts([parsePublish(`127.0.0.1:${p4}:8000`), parsePublish(`[::1]:${p6}:9000`)], bridge);
    after(() => servers.forEach((s) => s.close()));
    assert.deepEqual(servers.map((s) => s.address()), [
      { address: '127.0.0.1', family: 'IPv4', port: p4 }, { address: '::1', family: 'IPv6', port: p6 },
    ]);
    const echoed = await new Promise<string>((resolve) => {
      const c = net.connect(p4, '127.0.0.1', () => c.write('ping'));
      c.on('data', (d) => { resolve(d.toString()); c.destroy(); });
    });
    assert.equal(echoed, 'ping');
    assert.deepEqual(opened, [8000]);
  });

  test('parsePublish accepts loopback only', () => {
    assert.deepEqual(parsePublish('127.0.0.1:18789:8000'),
      { hostAddress: '127.0.0.1', hostPort: 18789, sandboxPort: 8000, text: '127.0.0.1:18789:8000' });
    assert.equal(parsePublish('[::1]:18789:8000').hostAddress, '::1');
    for (const text of ['0.0.0.0:8080:8000', '[::]:8080:8000', '192.168.1.5:8080:8000', '10.0.0.1:8080:8000', '8080:8000', '8000',
      'localhost:8080:8000', '127.0.0.2:8080:8000', '[::ffff:127.0.0.1]:8080:8000', '::1:8080:8000', '127.0.0.1:0:8000',
      '127.0.0.1:8080:0', '127.0.0.1:70000:8000', '127.0.0.1:8080:70000', ' 127.0.0.1:8080:8000', '127.0.0.1:8080:8000\n',
      '127.0.0.1:8080', '']) {
      assert.throws(() => parsePublish(text), (e: unknown) => e instanceof ArmorerError && e.code === 'ARMORER_E_PUBLISH' &&
        e.message.includes('is not 127.0.0.1:HOSTPORT:SANDBOXPORT'), JSON.stringify(text));
    }
  });
});
