import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { tempDirs } from '../lib/temp.js';

const temp = tempDirs('armorer-pass');
after(() => temp.cleanup());

function passFile(content: string, mode: number): string {
  const file = join(temp.tempDir('f'), 'passphrase');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

/** A prompt that must not be reached. */
const noPrompt = () => {
  throw new Error('prompted although another source was set');
};

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isArmorerError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('passphrase sources', () => {
  test('ARMORER_PASSPHRASE_FILE comes first, then ARMORER_PASSPHRASE, then the terminal', async () => {
    const file = passFile('from-the-file\n', 0o600);
    assert.deepEqual(await resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: file, ARMORER_PASSPHRASE: 'from-env' }, prompt: noPrompt }),
      { passphrase: 'from-the-file', source: 'file' });
    assert.deepEqual(await resolvePassphrase({ env: { ARMORER_PASSPHRASE: 'from-env' }, prompt: noPrompt }),
      { passphrase: 'from-env', source: 'env' });
    const asked: string[][] = [];
    const r = await resolvePassphrase({ env: {}, prompt: (q) => { asked.push([...q]); return Promise.resolve(['typed-it']); } });
    assert.deepEqual(r, { passphrase: 'typed-it', source: 'prompt' });
    assert.equal(asked.length, 1);
  });

  test('only one trailing newline of the file is dropped; other whitespace is part of the passphrase', async () => {
    assert.equal((await resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: passFile(' two words \r\n', 0o400) } })).passphrase, ' two words ');
    assert.equal((await resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: passFile('x\n\n', 0o600) } })).passphrase, 'x\n');
  });

  test('a passphrase file others can read, an empty one, or a directory is refused', async () => {
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: passFile('secret-pass\n', 0o644) } }), 'ARMORER_E_PASSPHRASE', /accessible to other users \(mode 644\)/);
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: passFile('secret-pass\n', 0o640) } }), 'ARMORER_E_PASSPHRASE', /mode 640/);
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: passFile('\n', 0o600) } }), 'ARMORER_E_PASSPHRASE', /is empty/);
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: temp.tempDir('d') } }), 'ARMORER_E_PASSPHRASE', /not a regular file/);
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: '/nonexistent/pass' } }), 'ARMORER_E_PASSPHRASE', /cannot be read \(ENOENT\)/);
  });

  test('the error for a refused file never contains the passphrase', async () => {
    const file = passFile('do-not-print-me\n', 0o644);
    await assert.rejects(resolvePassphrase({ env: { ARMORER_PASSPHRASE_FILE: file } }), (e: Error) => {
      assert.doesNotMatch(`${e.message} ${(e as { fix?: string }).fix}`, /do-not-print-me/);
      return true;
    });
  });

  test('with no source and no terminal, the error names both variables', async () => {
    await assert.rejects(resolvePassphrase({ env: {}, prompt: () => undefined }), (e: unknown) => {
      assert.ok(isArmorerError(e));
      assert.equal(e.code, 'ARMORER_E_PASSPHRASE');
      assert.match(e.fix, /ARMORER_PASSPHRASE_FILE/);
      assert.match(e.fix, /ARMORER_PASSPHRASE\b/);
      return true;
    });
  });

  test('a new passphrase is asked twice, must match, and must be 8 characters or more', async () => {
    const twice = (a: string, b: string) => () => Promise.resolve([a, b]);
    assert.equal((await resolvePassphrase({ env: {}, confirm: true, prompt: twice('long-enough', 'long-enough') })).passphrase, 'long-enough');
    await rejectsWith(resolvePassphrase({ env: {}, confirm: true, prompt: twice('long-enough', 'long-enougH') }), 'ARMORER_E_PASSPHRASE', /differ/);
    await rejectsWith(resolvePassphrase({ env: {}, confirm: true, prompt: twice('short', 'short') }), 'ARMORER_E_PASSPHRASE', /shorter than 8/);
    await rejectsWith(resolvePassphrase({ env: { ARMORER_PASSPHRASE: 'short' }, confirm: true }), 'ARMORER_E_PASSPHRASE', /ARMORER_PASSPHRASE is shorter/);
    await rejectsWith(resolvePassphrase({ env: {}, prompt: () => Promise.resolve(['']) }), 'ARMORER_E_PASSPHRASE', /empty/);
  });
});
