/**
 * Reads: nothing outside the system view, the workspace and explicit grants is visible, whatever
 * path the sandboxed process takes to it.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { armorer, armorerHome, cleanup, sh, tempDir, workspace } from './helpers.js';

after(cleanup);

/** A world-readable secret beside the workspace, so only the sandbox (not file modes) can hide it. */
let root: string;
let ws: string;
let secretDir: string;
let secret: string;
const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;

before(() => {
  root = tempDir('read');
  ws = workspace(root);
  secretDir = join(root, 'secret');
  mkdirSync(secretDir, { mode: 0o755 });
  secret = join(secretDir, 'token.txt');
  writeFileSync(secret, `${SECRET}\n`, { mode: 0o644 });
  writeFileSync(join(ws, 'inside.txt'), 'visible\n', { mode: 0o644 });
});

describe('reading outside the grants', () => {
  test('a file in the workspace is readable (control for the probes below)', async () => {
    const r = await sh(ws, 'cat inside.txt');
    assert.equal(r.stdout, 'visible\n');
    assert.equal(r.code, 0);
  });

  test('cannot read a file outside the grants by absolute path', async () => {
    assert.equal(readFileSync(secret, 'utf8'), `${SECRET}\n`, 'the host can read it');
    const r = await sh(ws, `cat ${secret}`);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`cat: ${secret}: No such file or directory`));
  });

  test('cannot read a file outside the grants through ../', async () => {
    const r = await sh(ws, 'cat ../secret/token.txt; ls ..');
    assert.match(r.stderr, /cat: \.\.\/secret\/token\.txt: No such file or directory/);
    assert.doesNotMatch(r.stdout, /secret|token/);
    assert.ok(!r.stdout.includes(SECRET));
  });

  test('a symlink in the workspace pointing outside resolves to nothing', async () => {
    symlinkSync(secret, join(ws, 'link'));
    assert.equal(readFileSync(join(ws, 'link'), 'utf8'), `${SECRET}\n`, 'the link works on the host');
    const r = await sh(ws, 'cat link');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cat: link: No such file or directory/);
    assert.ok(!r.stdout.includes(SECRET));
  });

  test('a chained symlink (workspace -> workspace -> outside) resolves to nothing', async () => {
    symlinkSync(secret, join(ws, 'hop2'));
    symlinkSync(join(ws, 'hop2'), join(ws, 'hop1'));
    symlinkSync(secretDir, join(ws, 'dirlink'));
    const r = await sh(ws, 'cat hop1; cat dirlink/token.txt; cat dirlink/../secret/token.txt');
    assert.match(r.stderr, /cat: hop1: No such file or directory/);
    assert.match(r.stderr, /cat: dirlink\/token\.txt: No such file or directory/);
    assert.match(r.stderr, /cat: dirlink\/\.\.\/secret\/token\.txt: No such file or directory/);
    assert.ok(!r.stdout.includes(SECRET));
  });

  test('cannot hardlink a file outside the grants into the workspace', async () => {
    const r = await sh(ws, `ln ${secret} hardlink; ln /etc/hosts hosts-link; ls`);
    assert.match(r.stderr, new RegExp(`ln: failed to access '${secret}': No such file or directory`));
    // A visible read-only file is on another mount: no link can carry it into the workspace.
    assert.match(r.stderr, /ln: failed to create hard link 'hosts-link' => '\/etc\/hosts': Invalid cross-device link/);
    assert.doesNotMatch(r.stdout, /hardlink|hosts-link/);
  });

  test('a hardlink made on the host is the workspace\'s own file, not a window', async () => {
    // The host may link a file in; the sandbox then sees that inode and nothing else of its directory.
    linkSync(secret, join(ws, 'host-made-link'));
    const r = await sh(ws, `cat host-made-link; ls ${secretDir}`);
    assert.equal(r.stdout, `${SECRET}\n`);
    assert.match(r.stderr, new RegExp(`ls: cannot access '${secretDir}': No such file or directory`));
  });

  test('cannot read a file outside the grants through /proc/self/root', async () => {
    const r = await sh(ws, `cat /proc/self/root${secret}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such file or directory/);
    assert.ok(!r.stdout.includes(SECRET));
  });

  test('cannot read a file outside the grants through /proc/1/root', async () => {
    const r = await sh(ws, `cat /proc/1/root${secret}; ls /proc/1/root/`);
    assert.match(r.stderr, new RegExp(`cat: /proc/1/root${secret}: No such file or directory`));
    assert.ok(!r.stdout.includes(SECRET));
    // pid 1 is the sandbox's own init: its root is the sandbox's root, not the host's.
    assert.deepEqual(r.stdout.trim().split('\n').filter((n) => ['root', 'srv', 'opt', 'mnt', 'boot', 'work'].includes(n)), []);
  });

  test('a file descriptor the caller leaked (no O_CLOEXEC) is not open inside', async () => {
    // spawn's stdio array dup2()s the fd into armorer without O_CLOEXEC: a real leak to inherit.
    const fd = openSync(secret, 'r');
    try {
      const leaked = 40;
      const extra: (number | 'ignore')[] = Array(leaked - 3).fill('ignore');
      extra.push(fd);
      const r = await sh(ws, `ls /proc/self/fd; cat /proc/self/fd/${leaked}; readlink /proc/self/fd/*`, { extraFds: extra });
      assert.ok(!r.stdout.includes(SECRET), 'the secret was read through the leaked fd');
      assert.ok(!r.stdout.includes(basename(secret)), 'a leaked fd names the secret file');
      // ls's own directory fd is 3; nothing else may be open.
      const fds = r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
      assert.deepEqual(fds, [0, 1, 2, 3], `fds open inside: ${fds.join(',')}`);
    } finally {
      closeSync(fd);
    }
  });
});

describe('host secrets on well-known paths', () => {
  test('/etc/shadow, /etc/gshadow and /etc/sudoers are not there', async () => {
    assert.ok(existsSync('/etc/shadow'), 'the host has one');
    const r = await sh(ws, 'for f in /etc/shadow /etc/gshadow /etc/sudoers; do cat $f; done');
    assert.match(r.stderr, /cat: \/etc\/shadow: No such file or directory/);
    assert.match(r.stderr, /cat: \/etc\/gshadow: No such file or directory/);
    assert.match(r.stderr, /cat: \/etc\/sudoers: No such file or directory/);
    assert.equal(r.stdout, '');
  });

  test('/etc/passwd names only the sandbox user, root and nobody', async () => {
    const r = await sh(ws, 'cut -d: -f1 /etc/passwd');
    assert.equal(r.stdout, 'root\nagent\nnobody\n');
  });

  test('/root and the caller\'s HOME are not there', async () => {
    const home = homedir();
    const r = await sh(ws, `ls /root; ls ${home}; ls /home`);
    assert.match(r.stderr, /ls: cannot access '\/root': No such file or directory/);
    if (home !== '/root') assert.match(r.stderr, new RegExp(`ls: cannot access '${home}': No such file or directory`));
    assert.equal(r.stdout, 'agent\n', '/home holds only the private sandbox HOME');
  });

  test('Armorer\'s own state (audit log, signing keys, secrets store, CA) is not there, even by exact path', async () => {
    const state = armorerHome();
    const init = await armorer(['init']);
    assert.equal(init.code, 0, init.stderr);
    // A run with egress opens the audit log, so audit.db exists on the host during and after it.
    const first = await sh(ws, 'true', { flags: ['--allow', 'net.outbound:example.invalid'] });
    assert.equal(first.code, 0, first.stderr);
    const paths = ['audit.db', 'keys', 'keys/audit-ed25519.key', 'keys/ca', 'secrets', 'config.yaml', ''].map((p) => join(state, p));
    for (const p of paths) assert.ok(existsSync(p), `${p} exists on the host (control)`);
    const r = await sh(ws, paths.map((p) => `ls -d '${p}'`).join('; '));
    for (const p of paths) assert.ok(r.stderr.includes(`ls: cannot access '${p}': No such file or directory`), `${p} is visible: ${r.stdout}${r.stderr}`);
  });

  test('a grant naming Armorer\'s own state is refused before anything runs', async () => {
    const r = await sh(ws, 'echo ran', { flags: ['--allow', `files.read:${join(armorerHome(), 'keys')}`] });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /ARMORER_E_PATH/);
    assert.doesNotMatch(r.stdout, /ran/);
  });

  test('a sibling directory sharing the workspace\'s name as a prefix is invisible', async () => {
    const sibling = workspace(root, `${basename(ws)}-sibling`);
    writeFileSync(join(sibling, 'x.txt'), 'sibling\n', { mode: 0o644 });
    const r = await sh(ws, `cat ${sibling}/x.txt; ls ${root}`);
    assert.match(r.stderr, new RegExp(`cat: ${sibling}/x.txt: No such file or directory`));
    assert.equal(r.stdout, `${basename(ws)}\n`, 'only the workspace is visible in its parent');
  });

  test('a files.read grant is readable, and its siblings are not', async () => {
    const granted = join(root, 'granted');
    mkdirSync(granted, { mode: 0o755 });
    writeFileSync(join(granted, 'notes.txt'), 'notes\n', { mode: 0o644 });
    const r = await sh(ws, `cat ${granted}/notes.txt; cat ${secret}`, { flags: ['--allow', `files.read:${granted}`] });
    assert.equal(r.stdout, 'notes\n');
    assert.match(r.stderr, /No such file or directory/);
  });
});
