/**
 * Allowed hosts through the proxy, with the clients agents use: curl (http absolute-form and https
 * through CONNECT), Node's http.request aimed at the proxy, and TLS over an explicit CONNECT tunnel.
 * Node 20's fetch ignores HTTP(S)_PROXY: without a proxy-aware dispatcher it has no network at all.
 * Every connection leaves one event in the audit log (<armorerHome>/audit.db).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cleanup, closeAll, dials, httpsUpstream, httpUpstream, makeTls, runEgress, sh, type TestTls, type Upstream,
} from './helpers.js';

let tls: TestTls;
let plain: Upstream;
let secure: Upstream;
before(async () => {
  tls = makeTls(['api.test']);
  plain = await httpUpstream();
  secure = await httpsUpstream(tls);
});
after(() => {
  closeAll(plain, secure);
  cleanup();
});

const grants = () => [`net.outbound:api.test:${plain.port}`, `net.outbound:api.test:${secure.port}`, `files.read:${tls.caDir}`];
const trust = () => ({ SSL_CERT_FILE: tls.caFile, NODE_EXTRA_CA_CERTS: tls.caFile });

describe('allowed hosts', () => {
  test('curl reaches an allowed host over http (absolute-form) and https (CONNECT)', async () => {
    const r = await runEgress({
      grants: grants(), env: trust(),
      command: sh(`curl -sS --max-time 10 http://api.test:${plain.port}/curl-http && ` +
        `curl -sS --max-time 10 --cacert ${tls.caFile} https://api.test:${secure.port}/curl-https`),
    });
    assert.equal(r.result.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'upstream saw GET /curl-http\nupstream saw GET /curl-https\n');
    assert.ok(plain.requests.includes(`GET /curl-http host=api.test:${plain.port}`), plain.requests.join('\n'));
    assert.ok(secure.requests.includes(`GET /curl-https host=api.test:${secure.port}`), secure.requests.join('\n'));
    assert.deepEqual(r.resolved, ['api.test', 'api.test'], 'the proxy resolved each name once per connection');
    assert.ok(dials.includes(`127.0.0.1:${plain.port}`) && dials.includes(`127.0.0.1:${secure.port}`), `${dials.join(' ')} plain=${plain.port} secure=${secure.port}`);
  });

  test('node http.request through the proxy, and TLS over an explicit CONNECT tunnel', async () => {
    const js = `
      const http = require('http'), tls = require('tls');
      const [hp, sp] = process.argv.slice(1);
      http.get({ host: '127.0.0.1', port: 3128, path: 'http://api.test:' + hp + '/node-http', headers: { host: 'api.test:' + hp } }, (res) => {
        let b = ''; res.on('data', (c) => b += c);
        res.on('end', () => {
          console.log('http', res.statusCode, b.trim());
          const req = http.request({ host: '127.0.0.1', port: 3128, method: 'CONNECT', path: 'api.test:' + sp });
          req.on('connect', (cres, sock) => {
            console.log('connect', cres.statusCode);
            const t = tls.connect({ socket: sock, servername: 'api.test' }, () =>
              t.write('GET /node-tls HTTP/1.1\\r\\nHost: api.test:' + sp + '\\r\\nConnection: close\\r\\n\\r\\n'));
            let d = ''; t.on('data', (c) => d += c);
            t.on('end', () => console.log('tls', d.split('\\r\\n')[0], (/upstream saw [^\\n]*/.exec(d) || [''])[0]));
            t.on('error', (e) => console.log('tls-error', e.message));
          });
          req.on('error', (e) => console.log('connect-error', e.message));
          req.end();
        });
      }).on('error', (e) => console.log('http-error', e.message));`;
    const r = await runEgress({ grants: grants(), env: trust(), command: ['node', '-e', js, String(plain.port), String(secure.port)] });
    assert.equal(r.stdout, 'http 200 upstream saw GET /node-http\nconnect 200\ntls HTTP/1.1 200 OK upstream saw GET /node-tls\n', r.stderr);
    assert.ok(secure.requests.includes(`GET /node-tls host=api.test:${secure.port}`));
  });

  test('Node fetch without a proxy-aware dispatcher has no network at all', async () => {
    // NODE_OPTIONS may carry Armorer's env-proxy preload; `env -u` runs a bare Node 20 without it,
    // whose fetch ignores HTTP(S)_PROXY and NODE_USE_ENV_PROXY: it must not reach anything.
    const js = `const go = (u) => fetch(u).then((r) => 'status ' + r.status, (e) => 'failed ' + (e.cause?.code ?? e.message));
      (async () => { console.log(await go(process.argv[1])); console.log(await go(process.argv[2])); })();`;
    const before = plain.requests.length;
    const r = await runEgress({
      grants: grants(),
      command: ['env', '-u', 'NODE_OPTIONS', 'node', '-e', js, `http://api.test:${plain.port}/bare-fetch`, `http://127.0.0.1:${plain.port}/bare-fetch-ip`],
    });
    const [byName, byAddress] = r.stdout.trim().split('\n');
    assert.match(byName ?? '', /^failed (ENOTFOUND|EAI_AGAIN)$/, r.stdout + r.stderr);
    assert.equal(byAddress, 'failed ECONNREFUSED', 'the host loopback is not the sandbox loopback');
    assert.equal(plain.requests.length, before, 'nothing reached the upstream');
    assert.deepEqual(r.events, [], 'nothing even reached the proxy');
  });

  test('with Armorer\'s env-proxy preload, Node fetch goes through the proxy and its rules', async (t) => {
    const r0 = await runEgress({ grants: grants(), command: sh('printf %s "$NODE_OPTIONS"') });
    if (!r0.stdout.includes('proxy-env')) return t.skip('no built preload (dist/preload/proxy-env.cjs)');
    const js = `const go = (u) => fetch(u).then(async (r) => r.status + ' ' + (await r.text()).trim(), (e) => 'failed ' + (e.cause?.cause?.message ?? e.cause?.message));
      (async () => { console.log(await go(process.argv[1])); console.log(await go(process.argv[2])); })();`;
    const r = await runEgress({
      grants: grants(), command: ['node', '-e', js, `http://api.test:${plain.port}/preload-fetch`, `http://other.test:${plain.port}/preload-denied`],
    });
    const [allowed, denied] = r.stdout.trim().split('\n');
    assert.equal(allowed, '200 upstream saw GET /preload-fetch', r.stdout + r.stderr);
    // undici tunnels even http:// through CONNECT: the refusal is the proxy's 403 to the CONNECT.
    assert.equal(denied, 'failed Proxy response (403) !== 200 when HTTP Tunneling');
    assert.equal(r.events.find((e) => e.host === 'other.test')?.decision.rule, 'approval.denied');
    assert.ok(!plain.requests.some((q) => q.includes('/preload-denied')));
  });
});

describe('events', () => {
  test('each connection is written to the audit log with host, port, decision and bytes', async () => {
    const r = await runEgress({
      grants: grants(), env: trust(),
      command: sh(`curl -sS http://api.test:${plain.port}/ev-http; curl -sS --cacert ${tls.caFile} https://api.test:${secure.port}/ev-tls; ` +
        `curl -sS -o /dev/null http://other.test:${plain.port}/ev-denied`),
    });
    assert.equal(statSync(join(r.home, 'audit.db')).mode & 0o777, 0o600);
    assert.equal(r.events.length, 3, JSON.stringify(r.events, null, 1));
    const [http, tlsEv, denied] = [
      r.events.find((e) => e.method === 'HTTP' && e.kind === 'egress.connection'),
      r.events.find((e) => e.method === 'CONNECT'),
      r.events.find((e) => e.kind === 'egress.denied'),
    ];
    assert.deepEqual({ ...http, time: 0, durationMs: 0, bytesUp: 0 }, {
      kind: 'egress.connection', time: 0, host: 'api.test', port: plain.port, method: 'HTTP', address: '127.0.0.1',
      decision: { effect: 'allow', rule: `net.outbound:api.test:${plain.port}`,
        reason: `api.test:${plain.port} is allowed by net.outbound:api.test:${plain.port} (the egress suite grants net.outbound:api.test:${plain.port})` },
      bytesUp: 0, bytesDown: 'upstream saw GET /ev-http\n'.length, durationMs: 0,
    });
    assert.ok(http!.bytesUp > 0 && !Number.isNaN(Date.parse(http!.time)) && http!.durationMs >= 0);
    assert.equal(tlsEv?.kind, 'egress.connection');
    assert.equal(tlsEv?.host, 'api.test');
    assert.equal(tlsEv?.port, secure.port);
    assert.equal(tlsEv?.address, '127.0.0.1');
    assert.equal(tlsEv?.decision.rule, `net.outbound:api.test:${secure.port}`);
    assert.ok(tlsEv!.bytesUp > 100 && tlsEv!.bytesDown > 300, `TLS bytes both ways: ${tlsEv!.bytesUp}/${tlsEv!.bytesDown}`);
    assert.equal(denied?.host, 'other.test');
    assert.equal(denied?.port, plain.port);
    assert.equal(denied?.decision.effect, 'deny');
    assert.equal(denied?.decision.rule, 'approval.denied');
    assert.equal(denied?.address, undefined, 'a denied connection was never pinned to an address');
    assert.equal(denied?.bytesUp, 0);
    assert.equal(denied?.bytesDown, 0);
  });
});
