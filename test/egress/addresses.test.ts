/**
 * The address guard: a granted name that resolves to the host's network, a private range or a
 * cloud metadata service is refused after DNS and before any connect, and the connection that is
 * allowed is pinned to the address that was checked (DNS rebinding cannot re-point it). The
 * resolver is injected; the private addresses it returns are never dialled (the dial guard in
 * helpers.ts would throw, and records every dial).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resolver } from '../../src/egress/types.js';
import { cleanup, closeAll, dials, httpUpstream, NAMES, runEgress, sh, testResolver, type Upstream } from './helpers.js';

let up: Upstream;
before(async () => { up = await httpUpstream(); });
after(() => {
  closeAll(up);
  cleanup();
});

const BLOCKED: [name: string, rule: string, shown: string][] = [
  ['private.test', 'egress.address.private', '10.0.0.1 (private)'],
  ['metadata.test', 'egress.address.metadata', '169.254.169.254 (metadata)'],
  ['lan.test', 'egress.address.private', '192.168.1.1 (private)'],
  ['mapped.test', 'egress.address.private', '::ffff:10.0.0.1 (private, embeds 10.0.0.1)'],
  ['ula.test', 'egress.address.unique-local', 'fd00::1 (unique-local)'],
  ['mixed.test', 'egress.address.private', '10.0.0.1 (private), 192.168.1.1 (private)'],
  ['loopmapped.test', 'egress.address.loopback', '::ffff:127.0.0.1 (loopback, embeds 127.0.0.1)'],
];

describe('resolved addresses', () => {
  test('granted names that resolve to private, metadata or mapped addresses are refused before connecting', async () => {
    const H = up.port;
    const { resolver, asked } = testResolver({ ...NAMES, 'loopmapped.test': ['::ffff:127.0.0.1'] });
    const dialsBefore = dials.length;
    const names = BLOCKED.map(([n]) => n);
    const r = await runEgress({
      grants: names.map((n) => `net.outbound:${n}:${H}`), resolver,
      // http (absolute-form) for each name, and one CONNECT (curl -p) for the metadata name.
      command: sh(`${names.map((n) => `curl -sS -i http://${n}:${H}/addr-${n}; echo '#'`).join('; ')}; ` +
        `curl -sS -o /dev/null -w '%{http_connect}' -p http://metadata.test:${H}/addr-connect`),
    });
    assert.deepEqual(asked, [...names, 'metadata.test'], 'each name was resolved: the decision came after DNS');
    assert.deepEqual(dials.slice(dialsBefore), [], 'and before any connect');
    assert.equal(up.connections(), 0);
    const answers = r.stdout.split('#\n');
    BLOCKED.forEach(([name, rule, shown], i) => {
      const a = answers[i] ?? '';
      assert.match(a, /^HTTP\/1\.1 403 Forbidden\r\n/, `${name}: ${a}`);
      assert.match(a, new RegExp(`\\r\\nx-armorer-rule: ${rule.replace(/\./g, '\\.')}\\r\\n`), `${name}: ${a}`);
      assert.ok(a.includes(`armorer: blocked by ${rule}: ${name} resolves only to blocked addresses: ${shown}; ` +
        'the proxy connects only to public addresses, checked after DNS and before connecting; ' +
        '--dangerously-allow-loopback-upstream allows loopback only'), `${name}: ${a}`);
    });
    assert.equal(answers.at(-1), '403');
    assert.deepEqual(r.events.map((e) => [e.kind, e.method, e.host, e.decision.rule, e.address]), [
      ...BLOCKED.map(([n, rule]) => ['egress.denied', 'HTTP', n, rule, undefined]),
      ['egress.denied', 'CONNECT', 'metadata.test', 'egress.address.metadata', undefined],
    ]);
  });

  test('a name that does not resolve is refused as egress.dns', async () => {
    const r = await runEgress({
      grants: [`net.outbound:nowhere.test:${up.port}`],
      command: sh(`curl -sS -o /dev/null -w '%{http_code}' http://nowhere.test:${up.port}/`),
    });
    assert.equal(r.stdout, '403');
    assert.equal(r.events[0]?.decision.rule, 'egress.dns');
    assert.match(r.events[0]!.decision.reason, /^nowhere\.test did not resolve: getaddrinfo ENOTFOUND nowhere\.test$/);
  });

  test('DNS rebinding: the same name re-pointed at a private address is refused and never connected', async () => {
    const H = up.port;
    const answers = ['127.0.0.1', '10.0.0.1', '169.254.169.254'];
    const asked: string[] = [];
    const rebinding: Resolver = async (host) => {
      asked.push(host);
      const address = answers[Math.min(asked.length - 1, answers.length - 1)]!;
      return [{ address, family: 4 }];
    };
    const dialsBefore = dials.length;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${H}`], resolver: rebinding,
      command: sh([1, 2, 3].map((i) => `curl -sS -o /dev/null -w '%{http_code} ' http://api.test:${H}/rebind-${i}`).join('; ')),
    });
    assert.equal(r.stdout, '200 403 403 ');
    assert.deepEqual(asked, ['api.test', 'api.test', 'api.test']);
    assert.deepEqual(dials.slice(dialsBefore), [`127.0.0.1:${H}`], 'only the first, loopback answer was dialled');
    assert.deepEqual(up.requests.filter((q) => q.includes('/rebind-')), [`GET /rebind-1 host=api.test:${H}`]);
    assert.deepEqual(r.events.map((e) => [e.decision.rule, e.address]), [
      [`net.outbound:api.test:${H}`, '127.0.0.1'], ['egress.address.private', undefined], ['egress.address.metadata', undefined],
    ]);
  });

  test('the first allowed answer is pinned: a blocked address listed first is skipped, never dialled', async () => {
    const H = up.port;
    const { resolver } = testResolver({ 'api.test': ['10.0.0.1', '127.0.0.1'] });
    const dialsBefore = dials.length;
    const r = await runEgress({
      grants: [`net.outbound:api.test:${H}`], resolver,
      command: sh(`curl -sS -p http://api.test:${H}/pinned`), // CONNECT: a fresh dial, no pooled upstream socket
    });
    assert.equal(r.stdout, 'upstream saw GET /pinned\n', r.stderr);
    assert.deepEqual(dials.slice(dialsBefore), [`127.0.0.1:${H}`]);
    assert.equal(r.events[0]?.address, '127.0.0.1');
  });
});
