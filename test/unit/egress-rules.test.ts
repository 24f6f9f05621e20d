import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideTarget, rulesFromScopes, targetScope, type EgressGrant } from '../../src/egress/rules.js';
import { parseConnectTarget } from '../../src/egress/target.js';
import type { EgressRule, EgressTarget } from '../../src/egress/types.js';
import { parseScope } from '../../src/policy/index.js';

// net.outbound scopes never touch the filesystem; the context is only required by the signature.
const ctx = { home: '/nonexistent/home', workspace: '/nonexistent/ws' };

function grant(text: string, because = `because of ${text}`): EgressGrant {
  return { scope: parseScope(text, ctx), text, because };
}

function rules(...texts: string[]): EgressRule[] {
  return rulesFromScopes(texts.map((t) => grant(t)));
}

const name = (host: string, port: number): EgressTarget => ({ host, port, ipLiteral: false });

describe('rulesFromScopes', () => {
  test('keeps only net.outbound grants, in order, with the scope text and its because', () => {
    const out = rulesFromScopes([
      grant('files.read:/etc', 'reads config'),
      grant('net.outbound:api.example.com:8443', 'calls the API'),
      grant('shell.exec'),
      grant('secrets.access:TOKEN@api.example.com'),
      grant('net.outbound:*.Example.ORG.', 'docs mirrors'),
    ]);
    assert.deepEqual(out, [
      { host: 'api.example.com', wildcard: false, ports: [8443], scope: 'net.outbound:api.example.com:8443', because: 'calls the API' },
      { host: 'example.org', wildcard: true, ports: [443, 80], scope: 'net.outbound:*.Example.ORG.', because: 'docs mirrors' },
    ]);
  });

  test('gives a grant without a port 443 and 80', () => {
    assert.deepEqual(rules('net.outbound:example.com')[0]?.ports, [443, 80]);
  });

  test('stores IP hosts in the canonical text targets use, without brackets', () => {
    assert.deepEqual(rules('net.outbound:127.0.0.1:8080', 'net.outbound:[0:0::1]:9000', 'net.outbound:[::FFFF:127.0.0.1]')
      .map((r) => r.host), ['127.0.0.1', '::1', '::ffff:7f00:1']);
  });

  test('returns no rules for no grants', () => {
    assert.deepEqual(rulesFromScopes([]), []);
  });
});

describe('decideTarget: host names', () => {
  const policy = rules('net.outbound:api.example.com', 'net.outbound:*.example.org:443', 'net.outbound:git.example.net:22');

  test('allows a listed host and port, naming the scope and its because', () => {
    const d = decideTarget(name('api.example.com', 443), policy);
    assert.deepEqual(d, {
      effect: 'allow', rule: 'net.outbound:api.example.com',
      reason: 'api.example.com:443 is allowed by net.outbound:api.example.com (because of net.outbound:api.example.com)',
    });
    assert.equal(decideTarget(name('api.example.com', 80), policy).effect, 'allow');
    assert.equal(decideTarget(name('git.example.net', 22), policy).effect, 'allow');
  });

  test('matches a wildcard on subdomains only, never the apex or a look-alike', () => {
    const cases: [string, 'allow' | 'ask'][] = [
      ['docs.example.org', 'allow'],
      ['a.b.example.org', 'allow'],
      ['example.org', 'ask'],
      ['evilexample.org', 'ask'],
      ['example.org.evil.com', 'ask'],
      ['xexample.org', 'ask'],
      ['sub.api.example.com', 'ask'],
      ['example.com', 'ask'],
      ['i-api.example.com', 'ask'],
    ];
    for (const [host, effect] of cases) assert.equal(decideTarget(name(host, 443), policy).effect, effect, host);
  });

  test('matches names after the parser has lowercased them and stripped the trailing dot', () => {
    for (const authority of ['API.EXAMPLE.COM:443', 'api.example.com.:443', 'Docs.Example.Org.:443']) {
      assert.equal(decideTarget(parseConnectTarget(authority), policy).effect, 'allow', authority);
    }
  });

  test('denies a listed host on a port its grant does not list, naming the allowed ports', () => {
    assert.deepEqual(decideTarget(name('api.example.com', 8080), policy), {
      effect: 'deny', rule: 'net.outbound:api.example.com',
      reason: 'net.outbound:api.example.com (because of net.outbound:api.example.com) allows api.example.com only on ports 443, 80, not 8080',
    });
    const wild = decideTarget(name('docs.example.org', 80), policy);
    assert.equal(wild.effect, 'deny');
    assert.equal(wild.rule, 'net.outbound:*.example.org:443');
    assert.match(wild.reason, /only on port 443, not 80/);
  });

  test('allows when any of several matching grants lists the port', () => {
    const both = rules('net.outbound:*.example.com:443', 'net.outbound:api.example.com:8443');
    assert.equal(decideTarget(name('api.example.com', 8443), both).rule, 'net.outbound:api.example.com:8443');
    assert.equal(decideTarget(name('api.example.com', 443), both).rule, 'net.outbound:*.example.com:443');
    const d = decideTarget(name('api.example.com', 22), both);
    assert.equal(d.effect, 'deny');
    assert.equal(d.rule, 'net.outbound:api.example.com:8443', 'the exact grant is named before the wildcard');
    assert.match(d.reason, /ports 8443, 443, not 22/);
  });

  test('asks about a host no grant names', () => {
    assert.deepEqual(decideTarget(name('api.foo.com', 443), policy),
      { effect: 'ask', rule: 'egress.unlisted', reason: 'api.foo.com:443 is not in the policy' });
    assert.equal(decideTarget(name('api.foo.com', 443), []).effect, 'ask');
  });
});

describe('decideTarget: IP literals', () => {
  const policy = rules('net.outbound:127.0.0.1:8080', 'net.outbound:[::1]:9000', 'net.outbound:*.example.com');

  test('allows an address only when a grant names that exact address, in any notation the client used', () => {
    for (const authority of ['127.0.0.1:8080', '127.1:8080', '0x7f000001:8080', '2130706433:8080', '0177.0.0.1:8080']) {
      const d = decideTarget(parseConnectTarget(authority), policy);
      assert.equal(d.effect, 'allow', authority);
      assert.equal(d.rule, 'net.outbound:127.0.0.1:8080', authority);
    }
    assert.equal(decideTarget(parseConnectTarget('[0::1]:9000'), policy).effect, 'allow');
  });

  test('denies an address on a port its grant does not list', () => {
    const d = decideTarget(parseConnectTarget('127.0.0.1:22'), policy);
    assert.equal(d.effect, 'deny');
    assert.equal(d.rule, 'net.outbound:127.0.0.1:8080');
  });

  test('denies, never asks about, an address no grant names', () => {
    const cases = ['127.0.0.2:8080', '[::ffff:127.0.0.1]:8080', '[::ffff:7f00:1]:8080', '169.254.169.254:80', '0xa9fea9fe:80', '8.8.8.8:443'];
    for (const authority of cases) {
      const d = decideTarget(parseConnectTarget(authority), policy);
      assert.equal(d.effect, 'deny', authority);
      assert.equal(d.rule, 'egress.ip-literal', authority);
      assert.match(d.reason, /addresses must be named in the policy/, authority);
    }
    assert.match(decideTarget(parseConnectTarget('[::ffff:7f00:1]:8080'), policy).reason,
      /^\[::ffff:7f00:1\]:8080 names an address.*net\.outbound:\[::ffff:7f00:1\]:8080/);
  });

  test('never lets a wildcard grant match an address', () => {
    const d = decideTarget({ host: '1.2.3.4', port: 443, ipLiteral: true }, rules('net.outbound:*.3.4.example'));
    assert.equal(d.rule, 'egress.ip-literal');
  });
});

describe('targetScope', () => {
  test('names the scope an approval of this target would grant, as parseScope reads it', () => {
    for (const t of [name('api.foo.com', 443), { host: '::1', port: 9000, ipLiteral: true }]) {
      const text = targetScope(t);
      const back = rulesFromScopes([grant(text)]);
      assert.equal(decideTarget(t, back).effect, 'allow', text);
    }
    assert.equal(targetScope({ host: '::1', port: 9000, ipLiteral: true }), 'net.outbound:[::1]:9000');
  });
});
