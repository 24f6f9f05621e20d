import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_CONFIG, loadConfig } from '../../src/core/config.js';
import { isArmorerError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'armorer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function withConfig(yaml: string) {
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return loadConfig(dir);
}

const upstreams = (entries: string) => `version: 1\negress:\n  privateUpstreams:\n${entries}`;

async function refused(yaml: string, message: RegExp): Promise<void> {
  await assert.rejects(withConfig(yaml), (e: unknown) => {
    assert.ok(isArmorerError(e), String(e));
    assert.equal(e.code, 'ARMORER_E_CONFIG', e.message);
    assert.match(e.message, message);
    assert.ok(e.message.includes(join(dir, 'config.yaml')), 'the error names the file');
    return true;
  });
}

describe('config.yaml egress.privateUpstreams', () => {
  test('none unless configured', async () => {
    assert.deepEqual((await withConfig('version: 1\n')).egress, { privateUpstreams: [] });
    assert.deepEqual(DEFAULT_CONFIG.egress.privateUpstreams, []);
  });

  test('keeps each host with its one address, in order', async () => {
    const cfg = await withConfig(upstreams(
      '    - { host: registry.npmjs.org, address: 203.0.113.80 }\n' +
      '    - host: mirror.corp.example\n      address: 10.1.2.3\n' +
      '    - { host: v6.corp.example, address: "fd12:3456::7" }\n'));
    assert.deepEqual(cfg.egress.privateUpstreams, [
      { host: 'registry.npmjs.org', address: '203.0.113.80' },
      { host: 'mirror.corp.example', address: '10.1.2.3' },
      { host: 'v6.corp.example', address: 'fd12:3456::7' },
    ]);
  });

  test('writes IPv6 addresses the way resolvers return them, so the pair can match', async () => {
    const cfg = await withConfig(upstreams('    - { host: v6.corp.example, address: "FD12:3456:0:0:0:0:0:7" }\n'));
    assert.equal(cfg.egress.privateUpstreams[0]?.address, 'fd12:3456::7');
  });

  test('refuses loopback, link-local, metadata and unspecified addresses, however they are spelled', async () => {
    for (const address of [
      '127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1',
      '169.254.169.254', '169.254.1.1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '::a9fe:a9fe', 'fd00:ec2::254',
      '100.100.100.200', '168.63.129.16', 'fe80::1', 'FE80::1', 'fe90::1', 'febf::1',
      '0.0.0.0', '0.1.2.3', '::', '::0', '0:0:0:0:0:0:0:0',
    ]) {
      await refused(upstreams(`    - { host: registry.example, address: "${address}" }\n`), /is loopback, link-local \(cloud metadata\) or unspecified: never allowed/);
    }
  });

  test('refuses ranges, lists and anything but one address', async () => {
    for (const address of ['10.0.0.0/8', '10.0.0.1-10.0.0.9', '10.0.0.*', '*', 'registry.npmjs.org', '', '[::1]', 'fe80::1%eth0', '1.2.3']) {
      await refused(upstreams(`    - { host: registry.example, address: "${address}" }\n`), /must be one IP address \(no ranges\)|never allowed/);
    }
    await refused(upstreams('    - { host: registry.example, address: [10.0.0.1, 10.0.0.2] }\n'), /must be one IP address/);
    await refused(upstreams('    - { host: registry.example }\n'), /must be one IP address/);
  });

  test('refuses hosts that are not one lowercase name', async () => {
    for (const host of ['Registry.Example', '*.example.com', 'a..b', 'reg istry', 'https://registry.example/', '']) {
      await refused(upstreams(`    - { host: "${host}", address: 10.0.0.1 }\n`), /host must be a lowercase host name/);
    }
    await refused(upstreams('    - { address: 10.0.0.1 }\n'), /host must be a lowercase host name/);
    await refused(upstreams('    - registry.example=10.0.0.1\n'), /host must be a lowercase host name/);
  });

  test('refuses settings it does not know instead of ignoring them', async () => {
    await refused(upstreams('    - { host: registry.example, address: 10.0.0.1, port: 8443 }\n'), /only host and address/);
    await refused('version: 1\negress:\n  allowPrivate: true\n', /egress may only hold privateUpstreams/);
    await refused('version: 1\negress:\n  privateUpstreams: registry.example\n', /must be a list/);
  });
});

describe('config.yaml install.registry', () => {
  test('defaults to the public npm registry, and normalises a given one', async () => {
    assert.equal((await withConfig('version: 1\n')).install.registry, 'https://registry.npmjs.org/');
    assert.equal((await withConfig('install:\n  registry: https://npm.corp.example/repo\n')).install.registry, 'https://npm.corp.example/repo/');
  });

  test('refuses a registry that is not https, carries credentials, or is not a URL', async () => {
    await refused('install:\n  registry: http://npm.corp.example/\n', /https:\/\/ URL without credentials/);
    await refused('install:\n  registry: https://user:pw@npm.corp.example/\n', /https:\/\/ URL without credentials/);
    await refused('install:\n  registry: not a url\n', /is not a URL/);
    await refused('install:\n  mirror: https://npm.corp.example/\n', /install may only hold registry/);
  });
});
