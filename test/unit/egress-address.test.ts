import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canonicalIPv6, classifyAddress, formatIPv6, guardResolved, ipv6Words, type AddressCategory,
} from '../../src/egress/address.js';
import type { ResolvedAddress } from '../../src/egress/types.js';

function expectClass(ip: string, category: AddressCategory, embeddedIPv4?: string): void {
  const c = classifyAddress(ip);
  assert.equal(c.category, category, `${ip} should be ${category}`);
  assert.equal(c.blocked, category !== 'public', `${ip}: only public addresses are allowed`);
  assert.equal(c.embeddedIPv4, embeddedIPv4, `${ip}: embedded IPv4`);
}

describe('classifyAddress: IPv4', () => {
  test('puts each special-purpose range, at its edges, in its category', () => {
    const cases: [string, AddressCategory][] = [
      ['0.0.0.0', 'unspecified'], ['0.255.255.255', 'unspecified'],
      ['10.0.0.0', 'private'], ['10.255.255.255', 'private'],
      ['100.64.0.0', 'cgnat'], ['100.127.255.255', 'cgnat'],
      ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'],
      ['169.254.0.1', 'link-local'], ['169.254.255.255', 'link-local'],
      ['169.254.169.254', 'metadata'], ['100.100.100.200', 'metadata'], ['168.63.129.16', 'metadata'],
      ['172.16.0.0', 'private'], ['172.31.255.255', 'private'],
      ['192.0.0.8', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['192.88.99.1', 'reserved'],
      ['192.168.0.1', 'private'], ['192.168.255.255', 'private'],
      ['198.18.0.1', 'reserved'], ['198.19.255.255', 'reserved'],
      ['198.51.100.7', 'documentation'],
      ['203.0.113.9', 'documentation'],
      ['224.0.0.1', 'multicast'], ['239.255.255.255', 'multicast'],
      ['240.0.0.1', 'reserved'], ['255.255.255.254', 'reserved'],
      ['255.255.255.255', 'broadcast'],
    ];
    for (const [ip, category] of cases) expectClass(ip, category);
  });

  test('allows public addresses, including the neighbours of blocked ranges', () => {
    for (const ip of [
      '1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255',
      '128.0.0.0', '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.0.1.255',
      '192.0.3.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255',
      '168.63.129.17',
    ]) expectClass(ip, 'public');
  });
});

describe('classifyAddress: IPv6', () => {
  test('puts each special-purpose range in its category', () => {
    const cases: [string, AddressCategory][] = [
      ['::', 'unspecified'], ['::1', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'],
      ['fe80::1', 'link-local'], ['febf:ffff::1', 'link-local'],
      ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'],
      ['fec0::1', 'site-local'], ['feff::1', 'site-local'],
      ['ff02::1', 'multicast'], ['ff05::1:3', 'multicast'],
      ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation'],
      ['fd00:ec2::254', 'metadata'], ['FD00:EC2:0:0:0:0:0:254', 'metadata'], ['fd00:ec2::253', 'unique-local'],
      ['2001::1', 'teredo'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
      ['2001:2::1', 'reserved'], ['2001:10::1', 'reserved'],
      ['100::1', 'reserved'],
      ['64:ff9b:1::a00:1', 'nat64'],
      ['4000::1', 'reserved'], ['1::1', 'reserved'], ['::2:0:0:1', 'reserved'],
    ];
    for (const [ip, category] of cases) expectClass(ip, category);
  });

  test('allows global unicast addresses', () => {
    for (const ip of ['2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:80b::200e', '2001:200::1']) {
      expectClass(ip, 'public');
    }
  });

  test('classifies an IPv4-mapped address by the IPv4 address it carries', () => {
    const cases: [string, AddressCategory, string][] = [
      ['::ffff:127.0.0.1', 'loopback', '127.0.0.1'],
      ['::ffff:7f00:1', 'loopback', '127.0.0.1'],
      ['::ffff:10.1.2.3', 'private', '10.1.2.3'],
      ['::ffff:192.168.0.1', 'private', '192.168.0.1'],
      ['::ffff:169.254.169.254', 'metadata', '169.254.169.254'],
      ['::ffff:a9fe:a9fe', 'metadata', '169.254.169.254'],
      ['::ffff:0.0.0.0', 'unspecified', '0.0.0.0'],
      ['::ffff:100.64.0.1', 'cgnat', '100.64.0.1'],
      ['::ffff:8.8.8.8', 'public', '8.8.8.8'],
    ];
    for (const [ip, category, v4] of cases) expectClass(ip, category, v4);
  });

  test('classifies NAT64 (64:ff9b::/96) by the IPv4 address, allowing a public one as DNS64 returns', () => {
    expectClass('64:ff9b::127.0.0.1', 'loopback', '127.0.0.1');
    expectClass('64:ff9b::a9fe:a9fe', 'metadata', '169.254.169.254');
    expectClass('64:ff9b::c0a8:101', 'private', '192.168.1.1');
    expectClass('64:ff9b::808:808', 'public', '8.8.8.8');
  });

  test('blocks 6to4 and IPv4-compatible addresses, naming the embedded category when it is special', () => {
    expectClass('2002:7f00:1::1', 'loopback', '127.0.0.1');
    expectClass('2002:a9fe:a9fe::1', 'metadata', '169.254.169.254');
    expectClass('2002:0a00:0001::', 'private', '10.0.0.1');
    expectClass('2002:808:808::1', '6to4', '8.8.8.8');
    expectClass('::127.0.0.1', 'loopback', '127.0.0.1');
    expectClass('::10.0.0.1', 'private', '10.0.0.1');
    expectClass('::8.8.8.8', 'reserved', '8.8.8.8');
    expectClass('::ffff:0:7f00:1', 'loopback', '127.0.0.1');
    expectClass('::ffff:0:808:808', 'reserved', '8.8.8.8');
  });

  test('refuses text that is not an address, including zone ids', () => {
    for (const ip of ['', 'example.com', '127.1', '0x7f000001', '[::1]', 'fe80::1%eth0', '::ffff:127.000.0.1', '1.2.3.4 ']) {
      assert.deepEqual(classifyAddress(ip), { category: 'invalid', blocked: true }, ip);
    }
  });
});

describe('IPv6 text', () => {
  test('formats as the WHATWG URL parser does, for every zero-run layout', () => {
    for (let mask = 0; mask < 256; mask++) {
      const words = Array.from({ length: 8 }, (_, i) => ((mask >> i) & 1 ? 0 : i * 0x1111 + 1));
      const text = formatIPv6(words);
      assert.equal(`[${text}]`, new URL(`http://[${words.map((w) => w.toString(16)).join(':')}]/`).hostname, text);
      assert.deepEqual(ipv6Words(text), words, text);
    }
  });

  test('canonicalises, and refuses what is not IPv6', () => {
    assert.equal(canonicalIPv6('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIPv6('::ffff:1.2.3.4'), '::ffff:102:304');
    for (const bad of ['', '1.2.3.4', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::1', 'g::1', 'fe80::1%1']) {
      assert.equal(canonicalIPv6(bad), null, bad);
    }
  });
});

describe('guardResolved', () => {
  const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
  const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

  test('pins the first public address, skipping private ones in the same answer', () => {
    const answer = [v4('10.0.0.5'), v6('::1'), v4('93.184.216.34'), v4('1.1.1.1')];
    assert.deepEqual(guardResolved('example.com', answer, false), { address: v4('93.184.216.34') });
    assert.deepEqual(guardResolved('example.com', [v6('2606:4700::1'), v4('1.1.1.1')], false), { address: v6('2606:4700::1') });
  });

  test('denies when every address is blocked, naming host, addresses and category', () => {
    const result = guardResolved('rebind.example', [v4('127.0.0.1'), v4('10.0.0.1')], false);
    assert.ok('decision' in result);
    assert.equal(result.decision.effect, 'deny');
    assert.equal(result.decision.rule, 'egress.address.loopback');
    assert.match(result.decision.reason, /rebind\.example/);
    assert.match(result.decision.reason, /127\.0\.0\.1 \(loopback\)/);
    assert.match(result.decision.reason, /10\.0\.0\.1 \(private\)/);
  });

  test('denies metadata services by every route, with the category in the rule', () => {
    const cases: [ResolvedAddress, string][] = [
      [v4('169.254.169.254'), 'egress.address.metadata'],
      [v6('::ffff:169.254.169.254'), 'egress.address.metadata'],
      [v6('::ffff:a9fe:a9fe'), 'egress.address.metadata'],
      [v6('64:ff9b::a9fe:a9fe'), 'egress.address.metadata'],
      [v6('fd00:ec2::254'), 'egress.address.metadata'],
      [v6('fe80::1%eth0'), 'egress.address.invalid'],
      [v6('2001::1'), 'egress.address.teredo'],
    ];
    for (const [a, rule] of cases) {
      const result = guardResolved('metadata.example', [a], false);
      assert.ok('decision' in result, a.address);
      assert.equal(result.decision.rule, rule, a.address);
      assert.ok(result.decision.reason.includes(`metadata.example resolves only to blocked addresses: ${a.address} (`),
        result.decision.reason);
      if (a.address.includes(':') && !a.address.startsWith('f') && a.address !== '2001::1') {
        assert.match(result.decision.reason, /metadata, embeds 169\.254\.169\.254/, a.address);
      }
    }
  });

  test('denies an empty answer rather than connecting anywhere', () => {
    const result = guardResolved('empty.example', [], false);
    assert.ok('decision' in result);
    assert.equal(result.decision.rule, 'egress.address.none');
    assert.equal(result.decision.effect, 'deny');
  });

  test('with the loopback flag, allows 127/8 and ::1 and nothing else private', () => {
    assert.deepEqual(guardResolved('localhost', [v4('127.0.0.1')], true), { address: v4('127.0.0.1') });
    assert.deepEqual(guardResolved('localhost', [v4('127.8.9.10')], true), { address: v4('127.8.9.10') });
    assert.deepEqual(guardResolved('localhost', [v6('::1')], true), { address: v6('::1') });
    assert.deepEqual(guardResolved('mix', [v4('10.0.0.1'), v4('127.0.0.1')], true), { address: v4('127.0.0.1') });
    for (const a of [
      v4('10.0.0.1'), v4('192.168.1.1'), v4('169.254.169.254'), v4('0.0.0.0'), v6('fe80::1'), v6('fd00::1'),
      v6('::ffff:127.0.0.1'), v6('64:ff9b::7f00:1'), v6('2002:7f00:1::'), v6('::'),
    ]) {
      const result = guardResolved('lab.example', [a], true);
      assert.ok('decision' in result, `${a.address} must stay blocked with the loopback flag`);
      assert.match(result.decision.reason, /allows loopback only/);
    }
  });

  test('without the loopback flag, denies loopback', () => {
    const result = guardResolved('localhost', [v4('127.0.0.1'), v6('::1')], false);
    assert.ok('decision' in result);
    assert.equal(result.decision.rule, 'egress.address.loopback');
  });
  describe('with egress.privateUpstreams', () => {
    const upstreams = [
      { host: 'registry.npmjs.org', address: '203.0.113.80' },
      { host: 'mirror.corp.example', address: 'fd12:3456::7' },
    ];

    test('lets exactly the configured host through to exactly its address', () => {
      assert.deepEqual(guardResolved('registry.npmjs.org', [v4('203.0.113.80')], false, upstreams), { address: v4('203.0.113.80') });
      assert.deepEqual(guardResolved('mirror.corp.example', [v6('fd12:3456::7')], false, upstreams), { address: v6('fd12:3456::7') });
      // Another blocked address in the same answer is skipped, not connected to.
      assert.deepEqual(guardResolved('registry.npmjs.org', [v4('10.0.0.1'), v4('203.0.113.80')], false, upstreams), { address: v4('203.0.113.80') });
    });

    test('the same address for another host, or another address for the host, is still refused', () => {
      for (const [host, a] of [
        ['evil.example', v4('203.0.113.80')], ['registry.npmjs.org.evil.example', v4('203.0.113.80')], ['npmjs.org', v4('203.0.113.80')],
        ['registry.npmjs.org', v4('203.0.113.81')], ['registry.npmjs.org', v4('10.0.0.1')], ['registry.npmjs.org', v6('::ffff:203.0.113.80')],
        ['mirror.corp.example', v4('203.0.113.80')], ['registry.npmjs.org', v6('fd12:3456::7')],
      ] as const) {
        const result = guardResolved(host, [a], false, upstreams);
        assert.ok('decision' in result, `${host} -> ${a.address} must stay blocked`);
        assert.equal(result.decision.effect, 'deny');
        assert.match(result.decision.rule, /^egress\.address\./);
      }
    });

    test('never loopback, link-local, metadata or unspecified, even when listed', () => {
      // config.yaml refuses these; the guard refuses them again for any other caller.
      for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254', '64:ff9b::a9fe:a9fe', 'fe90::1', 'fd00:ec2::254', '0.0.0.0', '::']) {
        const a = address.includes(':') ? v6(address) : v4(address);
        const result = guardResolved('registry.npmjs.org', [a], false, [{ host: 'registry.npmjs.org', address }]);
        assert.ok('decision' in result, `${address} must stay blocked`);
        assert.equal(result.decision.effect, 'deny');
      }
    });

    test('a public address wins over the configured one, as without the setting', () => {
      assert.deepEqual(guardResolved('registry.npmjs.org', [v4('104.16.1.35'), v4('203.0.113.80')], false, upstreams), { address: v4('104.16.1.35') });
    });
  });
});
