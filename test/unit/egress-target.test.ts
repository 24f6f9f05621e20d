import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { embeddedIPv4, hostPort, parseAbsoluteTarget, parseConnectTarget } from '../../src/egress/target.js';
import { EgressRequestError } from '../../src/egress/types.js';

/** Asserts that `fn` is refused with this rule id. */
function refused(fn: () => unknown, rule: string, label: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EgressRequestError, `${label}: expected an EgressRequestError, got ${String(e)}`);
    assert.equal(e.rule, rule, `${label}: ${e.message}`);
    return true;
  }, `${label} should be refused`);
}

describe('CONNECT targets', () => {
  test('parses a host and port, lowercasing the host and stripping one trailing dot', () => {
    const cases: [string, string, number][] = [
      ['api.example.com:443', 'api.example.com', 443],
      ['API.Example.COM:443', 'api.example.com', 443],
      ['api.example.com.:8443', 'api.example.com', 8443],
      ['xn--bcher-kva.example:443', 'xn--bcher-kva.example', 443],
      ['localhost:1', 'localhost', 1],
      ['a-b.c:65535', 'a-b.c', 65535],
    ];
    for (const [input, host, port] of cases) {
      assert.deepEqual(parseConnectTarget(input), { host, port, ipLiteral: false }, input);
    }
  });

  test('refuses malformed or ambiguous authorities with the rule that names the problem', () => {
    const cases: [string, string][] = [
      ['example.com\0:443', 'request.nul'],
      ['example.com:443\r\nX-Injected: 1', 'request.control-char'],
      ['example.com\n:443', 'request.control-char'],
      ['example.com\t:443', 'request.control-char'],
      ['example.com\x7f:443', 'request.control-char'],
      ['example.com :443', 'request.whitespace'],
      [' example.com:443', 'request.whitespace'],
      ['example.com\\@evil.com:443', 'request.backslash'],
      ['user@example.com:443', 'request.userinfo'],
      ['user:pass@example.com:443', 'request.userinfo'],
      ['example.com#frag:443', 'request.fragment'],
      ['%65xample.com:443', 'request.percent-encoding'],
      ['127.0.0.%31:443', 'request.percent-encoding'],
      ['[fe80::1%25eth0]:443', 'request.percent-encoding'],
      ['example.com', 'request.bad-port'],
      ['example.com:', 'request.bad-port'],
      ['example.com:0', 'request.bad-port'],
      ['example.com:080', 'request.bad-port'],
      ['example.com:+80', 'request.bad-port'],
      ['example.com:-1', 'request.bad-port'],
      ['example.com:65536', 'request.bad-port'],
      ['example.com:99999', 'request.bad-port'],
      ['example.com:0x50', 'request.bad-port'],
      ['example.com:443/path', 'request.bad-port'],
      [':443', 'request.bad-host'],
      ['.:443', 'request.bad-host'],
      ['example.com..:443', 'request.bad-host'],
      ['a..b:443', 'request.bad-host'],
      ['-a.example:443', 'request.bad-host'],
      ['a-.example:443', 'request.bad-host'],
      ['under_score.example:443', 'request.bad-host'],
      ['*.example.com:443', 'request.bad-host'],
      [`${'a'.repeat(64)}.example:443`, 'request.bad-host'],
      [`${Array(64).fill('abc').join('.')}:443`, 'request.bad-host'],
      ['bücher.example:443', 'request.bad-host'],
      ['exаmple.com:443', 'request.bad-host'], // Cyrillic а
      ['example.com\u00a0:443', 'request.bad-host'],
      ['::1:443', 'request.bad-host'],
      ['a:b:443', 'request.bad-host'],
      ['[::1]', 'request.bad-port'],
      ['[::1:443', 'request.bad-host'],
      ['[::1]x:443', 'request.bad-host'],
      ['[]:443', 'request.bad-host'],
      ['[example.com]:443', 'request.bad-host'],
      ['[v1.fe]:443', 'request.bad-host'],
      ['[127.0.0.1]:443', 'request.bad-host'],
      ['[::ffff:127.000.0.1]:443', 'request.bad-host'],
      ['example.123:443', 'request.bad-host'],
      ['example.0x1:443', 'request.bad-host'],
    ];
    for (const [input, rule] of cases) refused(() => parseConnectTarget(input), rule, JSON.stringify(input));
  });

  test('accepts a long name up to 253 characters and 63-character labels', () => {
    const label = 'a'.repeat(63);
    const host = `${label}.${label}.${label}.${'b'.repeat(61)}`;
    assert.equal(host.length, 253);
    assert.equal(parseConnectTarget(`${host}:443`).host, host);
    refused(() => parseConnectTarget(`${host}c:443`), 'request.bad-host', '254 characters');
  });
});

describe('IPv4 literals in any notation', () => {
  // Every notation inet_aton and the WHATWG URL parser accept for the same address.
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['00000000177.0.0.1', '127.0.0.1'],
    ['0x7f.0.0x0.01', '127.0.0.1'],
    ['127.0x0.00.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['0x.0.0.1', '0.0.0.1'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['2852039166', '169.254.169.254'],
    ['10.1', '10.0.0.1'],
    ['4294967295', '255.255.255.255'],
    ['0xffffffff', '255.255.255.255'],
    ['037777777777', '255.255.255.255'],
    ['192.168.65535', '192.168.255.255'],
    ['8.8.8.8', '8.8.8.8'],
  ];

  test('marks the target as an IP literal and gives its dotted-decimal text', () => {
    for (const [input, canonical] of cases) {
      assert.deepEqual(parseConnectTarget(`${input}:443`), { host: canonical, port: 443, ipLiteral: true }, input);
    }
  });

  test('reads each notation as the WHATWG URL parser does', () => {
    for (const [input, canonical] of cases) {
      assert.equal(new URL(`http://${input}/`).hostname, canonical, `table entry ${input}`);
    }
  });

  test('refuses a name ending in a number that no resolver reads as an address', () => {
    for (const input of [
      '4294967296', '0x100000000', '040000000000', '256.0.0.1', '1.256.0.1', '1.2.256.1', '1.2.3.256',
      '1.2.65536', '1.16777216', '1.2.3.4.5', '08.0.0.1', '0189', '1..2', '0x7g.1', 'example.1',
      '1.2.3.09',
    ]) {
      refused(() => parseConnectTarget(`${input}:443`), 'request.bad-host', input);
    }
  });

  test('treats a name whose last label is a word as a name, even with numbers before it', () => {
    assert.deepEqual(parseConnectTarget('127.0.0.1.nip.io:443'), { host: '127.0.0.1.nip.io', port: 443, ipLiteral: false });
    assert.deepEqual(parseConnectTarget('0x7f.example:80'), { host: '0x7f.example', port: 80, ipLiteral: false });
  });
});

describe('IPv6 literals', () => {
  const cases: [string, string][] = [
    ['[::1]', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['[::]', '::'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['[2001:0db8:0000:0000:0000:0000:0000:0001]', '2001:db8::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['[::FFFF:7F00:0001]', '::ffff:7f00:1'],
    ['[0:0:0:0:0:ffff:169.254.169.254]', '::ffff:a9fe:a9fe'],
    ['[64:ff9b::10.0.0.1]', '64:ff9b::a00:1'],
    ['[::127.0.0.1]', '::7f00:1'],
    ['[1:0:0:1:0:0:0:1]', '1:0:0:1::1'],
    ['[0:0:1:0:0:1:0:0]', '::1:0:0:1:0:0'],
    ['[1:2:3:4:5:6:7::]', '1:2:3:4:5:6:7:0'],
    ['[fe80::1]', 'fe80::1'],
  ];

  test('gives canonical IPv6 text, the same as the URL parser and net.outbound scopes', () => {
    for (const [input, canonical] of cases) {
      assert.deepEqual(parseConnectTarget(`${input}:443`), { host: canonical, port: 443, ipLiteral: true }, input);
      assert.equal(new URL(`http://${input}/`).hostname, `[${canonical}]`, `table entry ${input}`);
    }
  });

  test('finds the IPv4 address inside mapped, compatible, translated, NAT64 and 6to4 addresses', () => {
    const embedded: [string, string | null][] = [
      ['::ffff:127.0.0.1', '127.0.0.1'],
      ['::ffff:7f00:1', '127.0.0.1'],
      ['::ffff:a9fe:a9fe', '169.254.169.254'],
      ['::ffff:0:a00:1', '10.0.0.1'],
      ['::7f00:1', '127.0.0.1'],
      ['64:ff9b::192.168.1.1', '192.168.1.1'],
      ['64:ff9b::808:808', '8.8.8.8'],
      ['2002:7f00:1::1', '127.0.0.1'],
      ['2002:a9fe:a9fe:1:2:3:4:5', '169.254.169.254'],
      ['::1', null],
      ['::', null],
      ['2001:db8::7f00:1', null],
      ['64:ff9b:1::7f00:1', null],
      ['not an address', null],
      ['127.0.0.1', null],
    ];
    for (const [input, v4] of embedded) assert.equal(embeddedIPv4(input), v4, input);
  });

  test('writes IPv6 hosts in brackets when naming a host and port', () => {
    assert.equal(hostPort({ host: '::1', port: 443 }), '[::1]:443');
    assert.equal(hostPort({ host: 'example.com', port: 80 }), 'example.com:80');
  });
});

describe('absolute-form HTTP requests', () => {
  test('parses host, port and the origin-form path to send upstream', () => {
    const cases: [string, { host: string; port: number; ipLiteral: boolean; path: string }][] = [
      ['http://example.com/a/b?q=1', { host: 'example.com', port: 80, ipLiteral: false, path: '/a/b?q=1' }],
      ['http://example.com', { host: 'example.com', port: 80, ipLiteral: false, path: '/' }],
      ['http://example.com?q', { host: 'example.com', port: 80, ipLiteral: false, path: '/?q' }],
      ['HTTP://Example.COM.:8080/x', { host: 'example.com', port: 8080, ipLiteral: false, path: '/x' }],
      ['http://[::1]:8080/', { host: '::1', port: 8080, ipLiteral: true, path: '/' }],
      ['http://0x7f.1/', { host: '127.0.0.1', port: 80, ipLiteral: true, path: '/' }],
      ['http://example.com/%2e%2e/a%20b', { host: 'example.com', port: 80, ipLiteral: false, path: '/%2e%2e/a%20b' }],
      ['http://example.com/@x', { host: 'example.com', port: 80, ipLiteral: false, path: '/@x' }],
      ['http://evil.com?@good.com/', { host: 'evil.com', port: 80, ipLiteral: false, path: '/?@good.com/' }],
    ];
    for (const [url, expected] of cases) assert.deepEqual(parseAbsoluteTarget(url, undefined), expected, url);
  });

  test('refuses other schemes, origin form and confusing URLs', () => {
    const cases: [string, string][] = [
      ['https://example.com/', 'request.scheme'],
      ['ftp://example.com/', 'request.scheme'],
      ['/path', 'request.scheme'],
      ['example.com/path', 'request.scheme'],
      ['http:/example.com/', 'request.scheme'],
      ['http:example.com', 'request.scheme'],
      ['http:\\\\example.com/', 'request.backslash'],
      ['http://example.com\\@evil.com/', 'request.backslash'],
      ['http://user@example.com/', 'request.userinfo'],
      ['http://good.com@evil.com/', 'request.userinfo'],
      ['http://example.com/#frag', 'request.fragment'],
      ['http://evil.com#@good.com/', 'request.fragment'],
      ['http://example.com/a b', 'request.whitespace'],
      ['http://example.com/\r\nHost: evil.com', 'request.control-char'],
      ['http://example.com/\0', 'request.nul'],
      ['http://%65xample.com/', 'request.percent-encoding'],
      ['http://example.com:/', 'request.bad-port'],
      ['http://example.com:0/', 'request.bad-port'],
      ['http://example.com:080/', 'request.bad-port'],
      ['http:///path', 'request.bad-host'],
      ['http://bücher.example/', 'request.bad-host'],
      ['http://example.com/caf\u00e9', 'request.non-ascii'],
      ['http://::1/', 'request.bad-host'],
    ];
    for (const [url, rule] of cases) refused(() => parseAbsoluteTarget(url, undefined), rule, JSON.stringify(url));
  });

  test('accepts a Host header that names the same host and port after normalisation', () => {
    const cases: [string, string][] = [
      ['http://example.com/', 'example.com'],
      ['http://example.com/', 'EXAMPLE.com.'],
      ['http://example.com/', 'example.com:80'],
      ['http://example.com:80/', 'example.com'],
      ['http://example.com:8080/', 'example.com:8080'],
      ['http://[::1]:8080/', '[0:0::1]:8080'],
      ['http://127.0.0.1/', '0x7f.1'],
    ];
    for (const [url, header] of cases) assert.equal(parseAbsoluteTarget(url, header).path, '/', `${url} with ${header}`);
  });

  test('refuses a Host header that disagrees with the URL, or is itself malformed', () => {
    const cases: [string, string, string][] = [
      ['http://example.com/', 'evil.com', 'request.host-mismatch'],
      ['http://example.com/', 'example.com:8080', 'request.host-mismatch'],
      ['http://example.com:8080/', 'example.com', 'request.host-mismatch'],
      ['http://example.com/', 'sub.example.com', 'request.host-mismatch'],
      ['http://example.com/', '', 'request.host-mismatch'],
      ['http://127.0.0.1/', '127.0.0.2', 'request.host-mismatch'],
      ['http://[::1]/', '[::2]', 'request.host-mismatch'],
      ['http://example.com/', 'example.com\r\nX: y', 'request.control-char'],
      ['http://example.com/', 'user@example.com', 'request.userinfo'],
      ['http://example.com/', 'example.com:080', 'request.bad-port'],
      ['http://example.com/', 'example.com/x', 'request.bad-host'],
      ['http://example.com/', 'example.com example.com', 'request.whitespace'],
    ];
    for (const [url, header, rule] of cases) refused(() => parseAbsoluteTarget(url, header), rule, `${url} with Host ${JSON.stringify(header)}`);
  });
});
