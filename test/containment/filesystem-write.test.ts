/**
 * Writes: only the workspace (and files.write grants) reach the host; read-only grants, system
 * directories and the paths other programs later obey (.git/hooks, .git/config, .envrc...) do not.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanup, sh, tempDir, workspace } from './helpers.js';

after(cleanup);

/** A workspace holding a git repository's protected parts: hooks/ and config. */
function gitWorkspace(): { ws: string; config: string } {
  const ws = workspace();
  mkdirSync(join(ws, '.git', 'hooks'), { recursive: true, mode: 0o755 });
  const config = join(ws, '.git', 'config');
  writeFileSync(config, '[core]\n\tbare = false\n', { mode: 0o644 });
  return { ws, config };
}

describe('writing outside the workspace', () => {
  test('a file written in the workspace reaches the host, owned by the caller (control)', async () => {
    const ws = workspace();
    const r = await sh(ws, 'echo made-inside > out.txt && mkdir -p sub && echo deeper > sub/f');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(ws, 'out.txt'), 'utf8'), 'made-inside\n');
    assert.equal(statSync(join(ws, 'out.txt')).uid, process.getuid!(), 'files are given back to the caller');
    assert.equal(statSync(join(ws, 'sub', 'f')).uid, process.getuid!());
  });

  test('cannot write into a files.read grant (Read-only file system)', async () => {
    const ws = workspace();
    const granted = tempDir('ro-grant');
    writeFileSync(join(granted, 'keep.txt'), 'original\n', { mode: 0o666 });
    const r = await sh(ws, `cat ${granted}/keep.txt; echo new > ${granted}/new.txt; echo changed > ${granted}/keep.txt; rm ${granted}/keep.txt`,
      { flags: ['--allow', `files.read:${granted}`] });
    assert.equal(r.stdout, 'original\n', 'the grant is readable');
    assert.match(r.stderr, new RegExp(`cannot create ${granted}/new\\.txt: Read-only file system`));
    assert.match(r.stderr, new RegExp(`cannot create ${granted}/keep\\.txt: Read-only file system`));
    assert.match(r.stderr, new RegExp(`rm: cannot remove '${granted}/keep\\.txt': Read-only file system`));
    assert.deepEqual(readdirSync(granted), ['keep.txt']);
    assert.equal(readFileSync(join(granted, 'keep.txt'), 'utf8'), 'original\n');
  });

  test('cannot write into /usr or over /etc/passwd', async () => {
    const ws = workspace();
    const r = await sh(ws, 'touch /usr/armorer-probe; echo x > /usr/bin/armorer-probe; echo evil >> /etc/passwd');
    assert.match(r.stderr, /touch: cannot touch '\/usr\/armorer-probe': Read-only file system/);
    assert.match(r.stderr, /cannot create \/usr\/bin\/armorer-probe: Read-only file system/);
    // A 0444 file on a read-only mount: either check may answer first.
    assert.match(r.stderr, /cannot create \/etc\/passwd: (Permission denied|Read-only file system)/);
    assert.ok(!existsSync('/usr/armorer-probe') && !existsSync('/usr/bin/armorer-probe'));
  });

  test('cannot write into a host directory outside the grants', async () => {
    const ws = workspace();
    const outside = tempDir('outside');
    const r = await sh(ws, `echo x > ${outside}/planted; mkdir ${outside}/d`);
    assert.match(r.stderr, new RegExp(`cannot create ${outside}/planted: Directory nonexistent`));
    assert.match(r.stderr, new RegExp(`mkdir: cannot create directory '${outside}/d': No such file or directory`));
    assert.deepEqual(readdirSync(outside), []);
  });

  test('cannot create a path that exists nowhere in the sandbox\'s view (its root is read-only)', async () => {
    const ws = workspace();
    const name = `armorer-probe-${process.pid}`;
    const r = await sh(ws, `mkdir /${name}; echo x > /etc/${name}; mkdir /opt`);
    assert.ok(!existsSync(`/${name}`) && !existsSync(`/etc/${name}`), 'nothing reached the host');
    // The root is a tmpfs private to the sandbox; left writable it is also an unbounded one.
    assert.match(r.stderr, new RegExp(`mkdir: cannot create directory '/${name}': Read-only file system`));
    assert.match(r.stderr, new RegExp(`cannot create /etc/${name}: Read-only file system`));
    assert.match(r.stderr, /mkdir: cannot create directory '\/opt': Read-only file system/);
  });

  test('a sibling directory sharing the workspace\'s name as a prefix cannot be written', async () => {
    const parent = tempDir('prefix');
    const ws = workspace(parent, 'ws');
    const sibling = workspace(parent, 'ws-sibling');
    const r = await sh(ws, `echo x > ${sibling}/planted; echo ok > ${ws}/mine`);
    assert.match(r.stderr, new RegExp(`cannot create ${sibling}/planted: Directory nonexistent`));
    assert.deepEqual(readdirSync(sibling), []);
    assert.equal(readFileSync(join(ws, 'mine'), 'utf8'), 'ok\n', `${basename(ws)} itself is writable`);
  });
});

describe('protected paths inside the workspace', () => {
  test('cannot create .git/hooks/pre-commit when .git exists', async () => {
    const { ws } = gitWorkspace();
    const r = await sh(ws, 'echo "#!/bin/sh" > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit');
    assert.match(r.stderr, /cannot create \.git\/hooks\/pre-commit: Read-only file system/);
    assert.deepEqual(readdirSync(join(ws, '.git', 'hooks')), []);
  });

  test('cannot overwrite, append to or remove .git/config', async () => {
    const { ws, config } = gitWorkspace();
    const r = await sh(ws, 'cat .git/config; echo "[core] fsmonitor = evil" > .git/config; echo x >> .git/config; rm .git/config');
    assert.equal(r.stdout, '[core]\n\tbare = false\n', 'it stays readable');
    assert.match(r.stderr, /cannot create \.git\/config: Read-only file system/);
    assert.match(r.stderr, /rm: cannot remove '\.git\/config': (Read-only file system|Device or resource busy)/);
    assert.equal(readFileSync(config, 'utf8'), '[core]\n\tbare = false\n');
  });

  test('cannot swap .git for a new one by renaming it away', async () => {
    const { ws, config } = gitWorkspace();
    const r = await sh(ws, 'mv .git .git-old && mkdir -p .git/hooks && echo evil > .git/hooks/pre-commit && ' +
      'echo "[core] fsmonitor = evil" > .git/config && echo swapped');
    assert.equal(r.stdout, '', `the swap succeeded inside: ${r.stderr}`);
    assert.ok(!existsSync(join(ws, '.git', 'hooks', 'pre-commit')), 'a pre-commit hook reached the host');
    assert.equal(readFileSync(config, 'utf8'), '[core]\n\tbare = false\n');
  });

  test('cannot create .git, .envrc, .gitmodules, .vscode or .idea when missing, and no placeholder is left', async () => {
    const ws = workspace();
    writeFileSync(join(ws, 'README'), 'hi\n');
    const r = await sh(ws, 'mkdir -p .git/hooks; echo x > .envrc; echo x > .gitmodules; touch .vscode/tasks.json; ' +
      'mv .idea idea; echo done');
    assert.equal(r.stdout, 'done\n');
    assert.match(r.stderr, /mkdir: cannot create directory '\.git\/hooks': Read-only file system/);
    assert.match(r.stderr, /cannot create \.envrc: (Read-only file system|Permission denied)/);
    assert.match(r.stderr, /cannot create \.gitmodules: (Read-only file system|Permission denied)/);
    assert.match(r.stderr, /touch: cannot touch '\.vscode\/tasks\.json': Read-only file system/);
    assert.match(r.stderr, /mv: cannot move '\.idea' to 'idea': Device or resource busy/);
    assert.deepEqual(readdirSync(ws), ['README'], 'the host workspace holds only what it held before');
  });

  test('a nested repository staged in .git/index cannot make the host\'s `git status` run a command',
    { skip: !existsSync('/usr/bin/git') && 'git is not installed' }, async () => {
      const ws = workspace();
      const hostEnv = { PATH: '/usr/bin:/bin', HOME: tempDir('git-home'), GIT_CONFIG_NOSYSTEM: '1' };
      execFileSync('git', ['init', '-q', ws], { env: hostEnv });
      chmodSync(join(ws, '.git'), 0o755);
      const pwned = join(tempDir('pwned'), 'ran-on-host');
      // core.fsmonitor in the nested repo's own config is a command git runs when it looks at the submodule.
      const G = 'git -c safe.directory=* -c user.email=a@b -c user.name=a';
      const r = await sh(ws, `mkdir sub && cd sub && ${G} init -q . && ${G} config core.fsmonitor "touch ${pwned}; false" && ` +
        `${G} commit -q --allow-empty -m s && sha=$(${G} rev-parse HEAD) && cd .. && ` +
        `${G} update-index --add --cacheinfo 160000,$sha,sub && echo staged`);
      execFileSync('git', ['status', '--short'], { cwd: ws, env: hostEnv, stdio: 'ignore' });
      assert.ok(!existsSync(pwned), `the host's git ran a command the sandbox planted (${r.stdout.trim()})`);
    });

  test('a protected .git reached through a symlink stays read-only', async () => {
    const ws = workspace();
    mkdirSync(join(ws, 'realgit', 'hooks'), { recursive: true, mode: 0o755 });
    symlinkSync('realgit', join(ws, '.git'));
    const r = await sh(ws, 'echo evil > realgit/hooks/pre-commit; echo evil > .git/hooks/pre-commit');
    assert.match(r.stderr, /cannot create realgit\/hooks\/pre-commit: Read-only file system/);
    assert.match(r.stderr, /cannot create \.git\/hooks\/pre-commit: Read-only file system/);
    assert.deepEqual(readdirSync(join(ws, 'realgit', 'hooks')), []);
  });
});
