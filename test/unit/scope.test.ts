import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ArmorerError } from '../../src/core/index.js';
import {
  canonicalPath, ENV_ALWAYS_SET, formatScope, parseScope, pathContains, type ScopeContext,
} from '../../src/policy/index.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'armorer-scope-')));
after(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, 'home');
const workspace = join(root, 'ws');
mkdirSync(join(home, 'notes'), { recursive: true });
mkdirSync(workspace);
const ctx: ScopeContext = { home, workspace };

/** Asserts that parsing fails with this code, and that the message quotes the scope text. */
function rejects(text: string, code: string, messagePart?: RegExp): ArmorerError {
  let caught: unknown;
  try {
    parseScope(text, ctx);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ArmorerError, `expected "${text}" to be refused`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes(`"${text}"`), `message should quote the scope: ${caught.message}`);
  assert.ok(caught.fix.length > 0);
  if (messagePart) assert.match(caught.message, messagePart);
  return caught;
}

describe('files scopes', () => {
  test('expands ~ to the home in the context', () => {
    assert.deepEqual(parseScope('files.read:~/notes', ctx), { kind: 'files.read', path: join(home, 'notes') });
    assert.deepEqual(parseScope('files.read:~', ctx), { kind: 'files.read', path: home });
  });

  test('expands ${workspace} to the workspace in the context', () => {
    assert.deepEqual(parseScope('files.write:${workspace}/out', ctx), { kind: 'files.write', path: join(workspace, 'out') });
  });

  test('resolves a symlink in the existing part of the path and keeps the parts that do not exist', () => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    assert.equal(canonicalPath(join(root, 'link', 'not', 'yet'), ctx), join(root, 'real', 'not', 'yet'));
    assert.deepEqual(parseScope(`files.read:${root}/link`, ctx), { kind: 'files.read', path: join(root, 'real') });
  });

  test('collapses repeated slashes, "." components and a trailing slash', () => {
    assert.equal(canonicalPath(`${home}//./notes/`, ctx), join(home, 'notes'));
  });

  test('refuses a symlink that leads into /proc', () => {
    symlinkSync('/proc', join(root, 'to-proc'));
    rejects(`files.read:${root}/to-proc/self`, 'ARMORER_E_PATH', /under \/proc/);
  });

  test('refuses a dangling symlink, whose target could appear anywhere later', () => {
    symlinkSync(join(root, 'missing'), join(root, 'dangling'));
    rejects(`files.write:${root}/dangling/x`, 'ARMORER_E_PATH', /symlink whose target does not exist/);
  });

  test('refuses relative paths, ".." components, NUL, ~user and other variables', () => {
    rejects('files.read:notes', 'ARMORER_E_PATH', /relative/);
    rejects('files.read:./notes', 'ARMORER_E_PATH', /relative/);
    rejects(`files.read:${home}/../etc`, 'ARMORER_E_PATH', /"\.\."/);
    rejects('files.read:~/notes/..', 'ARMORER_E_PATH', /"\.\."/);
    rejects('files.read:~root/x', 'ARMORER_E_PATH', /~user/);
    rejects('files.read:${HOME}/x', 'ARMORER_E_PATH', /only \$\{workspace\} and ~/);
    assert.throws(() => canonicalPath('/tmp/a\0b', ctx), { code: 'ARMORER_E_PATH', message: /NUL/ });
    rejects('files.read:/tmp/a\0b', 'ARMORER_E_SCOPE', /control character/);
  });

  test('refuses / itself and /proc, /sys, /dev and anything under them', () => {
    rejects('files.read:/', 'ARMORER_E_PATH', /whole filesystem/);
    for (const p of ['/proc', '/proc/1', '/sys/kernel', '/dev', '/dev/shm']) rejects(`files.write:${p}`, 'ARMORER_E_PATH');
  });

  test('allows a directory whose name only starts like a forbidden one', () => {
    assert.deepEqual(parseScope(`files.read:${root}/devices`, ctx), { kind: 'files.read', path: join(root, 'devices') });
  });

  test('needs a resource', () => {
    rejects('files.read', 'ARMORER_E_SCOPE', /missing the resource/);
    rejects('files.read:', 'ARMORER_E_SCOPE', /missing the resource/);
  });
});

describe('pathContains', () => {
  test('compares by whole path components', () => {
    assert.equal(pathContains('/tmp', '/tmp'), true);
    assert.equal(pathContains('/tmp', '/tmp/a'), true);
    assert.equal(pathContains('/tmp', '/tmpfoo'), false);
    assert.equal(pathContains('/tmp/a', '/tmp'), false);
    assert.equal(pathContains('/', '/anything'), true);
    assert.equal(pathContains('/tmp/', '/tmp/a'), true);
  });
});

describe('net.outbound', () => {
  test('lowercases the host and strips one trailing dot', () => {
    assert.deepEqual(parseScope('net.outbound:API.Example.COM.', ctx),
      { kind: 'net.outbound', host: 'api.example.com', wildcard: false });
    rejects('net.outbound:example.com..', 'ARMORER_E_SCOPE');
  });

  test('reads a port from 1 to 65535', () => {
    assert.deepEqual(parseScope('net.outbound:example.com:443', ctx),
      { kind: 'net.outbound', host: 'example.com', port: 443, wildcard: false });
    assert.equal((parseScope('net.outbound:example.com:65535', ctx) as { port: number }).port, 65535);
    for (const p of ['0', '65536', '080', '-1', 'https', '']) rejects(`net.outbound:example.com:${p}`, 'ARMORER_E_SCOPE');
  });

  test('reads a leading *. as a subdomains-only wildcard', () => {
    assert.deepEqual(parseScope('net.outbound:*.Example.com:443', ctx),
      { kind: 'net.outbound', host: '*.example.com', port: 443, wildcard: true });
    for (const h of ['*', '*.', '*.com', 'a.*.example.com', '*example.com', '**.example.com']) {
      rejects(`net.outbound:${h}`, 'ARMORER_E_SCOPE');
    }
  });

  test('accepts exact dotted IPv4 and bracketed IPv6, normalised', () => {
    assert.equal((parseScope('net.outbound:192.0.2.1:80', ctx) as { host: string }).host, '192.0.2.1');
    assert.deepEqual(parseScope('net.outbound:[0:0:0:0:0:0:0:1]:8080', ctx),
      { kind: 'net.outbound', host: '[::1]', port: 8080, wildcard: false });
    assert.equal((parseScope('net.outbound:[2001:DB8::A]', ctx) as { host: string }).host, '[2001:db8::a]');
  });

  test('refuses IP addresses written any other way', () => {
    for (const h of ['127.1', '0x7f.0.0.1', '010.0.0.1', '256.1.1.1', '2130706433', '*.1.2.3.4', '::1', '[::1',
      '[fe80::1%eth0]', '[not-ip]', '[::1]x']) {
      rejects(`net.outbound:${h}`, 'ARMORER_E_SCOPE');
    }
  });

  test('refuses bad labels, userinfo, schemes, paths and whitespace', () => {
    rejects('net.outbound:-bad.example.com', 'ARMORER_E_SCOPE', /labels/);
    rejects('net.outbound:bad-.example.com', 'ARMORER_E_SCOPE', /labels/);
    rejects('net.outbound:under_score.example.com', 'ARMORER_E_SCOPE', /labels/);
    rejects(`net.outbound:${'a'.repeat(64)}.com`, 'ARMORER_E_SCOPE', /labels/);
    rejects('net.outbound:user:pw@example.com', 'ARMORER_E_SCOPE', /userinfo/);
    rejects('net.outbound:https://example.com', 'ARMORER_E_SCOPE', /scheme/);
    rejects('net.outbound:example.com/v1', 'ARMORER_E_SCOPE', /path/);
    rejects('net.outbound:exa mple.com', 'ARMORER_E_SCOPE', /whitespace/);
    rejects(' net.outbound:example.com', 'ARMORER_E_SCOPE', /whitespace/);
    rejects('net.outbound:', 'ARMORER_E_SCOPE', /missing the resource/);
  });

  test('accepts a label of exactly 63 characters', () => {
    const host = `${'a'.repeat(63)}.com`;
    assert.equal((parseScope(`net.outbound:${host}`, ctx) as { host: string }).host, host);
  });
});

describe('shell.exec, secrets.access and env.pass', () => {
  test('shell.exec takes no resource', () => {
    assert.deepEqual(parseScope('shell.exec', ctx), { kind: 'shell.exec' });
    rejects('shell.exec:/bin/sh', 'ARMORER_E_SCOPE', /takes none/);
  });

  test('secrets.access names a secret and optionally the one host it is for', () => {
    assert.deepEqual(parseScope('secrets.access:OPENAI_API_KEY', ctx), { kind: 'secrets.access', name: 'OPENAI_API_KEY' });
    assert.deepEqual(parseScope('secrets.access:OPENAI_API_KEY@API.openai.com.', ctx),
      { kind: 'secrets.access', name: 'OPENAI_API_KEY', host: 'api.openai.com' });
    rejects('secrets.access:KEY@api.openai.com:443', 'ARMORER_E_SCOPE', /port/);
    rejects('secrets.access:KEY@*.openai.com', 'ARMORER_E_SCOPE', /wildcard/);
    rejects('secrets.access:KEY@', 'ARMORER_E_SCOPE', /no host/);
    rejects('secrets.access:1KEY', 'ARMORER_E_SCOPE', /not a variable name/);
  });

  test('env.pass takes any valid variable name, including ones the sandbox always sets', () => {
    assert.deepEqual(parseScope('env.pass:NODE_ENV', ctx), { kind: 'env.pass', name: 'NODE_ENV' });
    assert.deepEqual(parseScope('env.pass:_x1', ctx), { kind: 'env.pass', name: '_x1' });
    assert.deepEqual(parseScope('env.pass:PATH', ctx), { kind: 'env.pass', name: 'PATH' });
    assert.ok(ENV_ALWAYS_SET.includes('PATH') && ENV_ALWAYS_SET.includes('TMPDIR'));
    for (const n of ['A-B', '9LIVES', 'A B', 'A=B']) rejects(`env.pass:${n}`, 'ARMORER_E_SCOPE');
  });
});

describe('kinds', () => {
  test('an unknown kind lists the valid kinds', () => {
    const e = rejects('file.read:/tmp', 'ARMORER_E_SCOPE', /unknown kind "file.read"/);
    for (const k of ['files.read', 'files.write', 'net.outbound', 'shell.exec', 'secrets.access', 'env.pass']) {
      assert.ok(e.fix.includes(k), `fix should name ${k}: ${e.fix}`);
    }
    rejects('', 'ARMORER_E_SCOPE', /empty/);
  });

  test('a kind in the wrong case suggests the right one', () => {
    const e = rejects('Shell.Exec', 'ARMORER_E_SCOPE', /lowercase/);
    assert.equal(e.fix, 'write shell.exec');
  });
});

describe('formatScope', () => {
  test('round-trips every kind through parseScope', () => {
    const texts = [
      'files.read:~/notes', 'files.write:${workspace}/out', `files.read:${root}/a:b c`,
      'net.outbound:example.com', 'net.outbound:*.example.com:443', 'net.outbound:[::1]:8080',
      'net.outbound:192.0.2.1', 'shell.exec', 'secrets.access:K', 'secrets.access:K@api.example.com',
      'env.pass:NODE_ENV',
    ];
    for (const t of texts) {
      const s = parseScope(t, ctx);
      assert.deepEqual(parseScope(formatScope(s), ctx), s, t);
    }
    assert.equal(formatScope(parseScope('net.outbound:Example.com.:443', ctx)), 'net.outbound:example.com:443');
  });
});
