/**
 * Where the store's passphrase comes from, in order:
 *   1. ARMORER_PASSPHRASE_FILE: a file only its owner (you) can read, for unattended hosts;
 *   2. ARMORER_PASSPHRASE: the environment (visible to your other processes via /proc; see
 *      threat-model.md);
 *   3. a prompt on the controlling terminal, without echo (twice for a new passphrase).
 * With none of these, refuse: a store that opens without its passphrase protects nothing.
 * The passphrase is never logged or put in an error message.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { ArmorerError } from '../core/errors.js';
import { readUpTo } from './layout.js';
import { askHidden } from './prompt.js';

export type PassphraseSource = 'file' | 'env' | 'prompt';

export interface PassphraseOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** A new passphrase (init): asked twice, and held to a minimum length. */
  confirm?: boolean;
  /** Asks hidden questions; default: the controlling terminal (undefined if there is none). */
  prompt?: (questions: readonly string[]) => Promise<string[]> | undefined;
}

export const MIN_PASSPHRASE_LENGTH = 8;
const MAX_FILE_BYTES = 4096;

export async function resolvePassphrase(o: PassphraseOptions = {}): Promise<{ passphrase: string; source: PassphraseSource }> {
  const env = o.env ?? process.env;
  const file = env['ARMORER_PASSPHRASE_FILE'];
  if (file) return { passphrase: checkNew(readPassphraseFile(file), o.confirm, 'ARMORER_PASSPHRASE_FILE'), source: 'file' };
  const value = env['ARMORER_PASSPHRASE'];
  if (value) return { passphrase: checkNew(value, o.confirm, 'ARMORER_PASSPHRASE'), source: 'env' };
  const ask = o.prompt ?? askHidden;
  const answers = ask(o.confirm
    ? ['New passphrase for the secrets store: ', 'Same passphrase again: ']
    : ['Passphrase for the secrets store: ']);
  if (answers === undefined) {
    throw new ArmorerError('ARMORER_E_PASSPHRASE', 'no passphrase for the secrets store: no terminal to ask on, and neither ARMORER_PASSPHRASE_FILE nor ARMORER_PASSPHRASE is set',
      'run in a terminal, or set ARMORER_PASSPHRASE_FILE to a file (mode 0600, yours) holding the passphrase, or ARMORER_PASSPHRASE');
  }
  const [passphrase = '', again] = await answers;
  if (passphrase === '') throw new ArmorerError('ARMORER_E_PASSPHRASE', 'the passphrase is empty', 'type the passphrase of the secrets store');
  if (o.confirm) {
    checkNew(passphrase, true, 'the passphrase');
    if (again !== passphrase) {
      throw new ArmorerError('ARMORER_E_PASSPHRASE', 'the two passphrases differ', 'run the command again and type the same passphrase twice');
    }
  }
  return { passphrase, source: 'prompt' };
}

function checkNew(passphrase: string, isNew: boolean | undefined, where: string): string {
  if (isNew && [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new ArmorerError('ARMORER_E_PASSPHRASE', `${where} is shorter than ${MIN_PASSPHRASE_LENGTH} characters`,
      'choose a longer passphrase: it is all that protects identity.age from guessing if the file is copied');
  }
  return passphrase;
}

/**
 * The file must be a regular file owned by you with no permission for group or others (0600,
 * 0400): the same rule ssh applies to private keys. Checked on the open descriptor. One trailing
 * newline (as `echo` writes) is not part of the passphrase.
 */
export function readPassphraseFile(path: string): string {
  const fail = (why: string, fix: string) => new ArmorerError('ARMORER_E_PASSPHRASE', `ARMORER_PASSPHRASE_FILE ${path} ${why}`, fix);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'point ARMORER_PASSPHRASE_FILE at an existing file you own');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail('is not a regular file', 'point ARMORER_PASSPHRASE_FILE at a plain file');
    const me = process.getuid?.();
    if (me !== undefined && st.uid !== me) throw fail(`belongs to uid ${st.uid}, not to you (uid ${me})`, `chown ${me} ${path}`);
    if ((st.mode & 0o077) !== 0) throw fail(`is accessible to other users (mode ${(st.mode & 0o777).toString(8)})`, `chmod 600 ${path}`);
    if (st.size > MAX_FILE_BYTES) throw fail(`is larger than ${MAX_FILE_BYTES} bytes`, 'put only the passphrase in it');
    const text = readUpTo(fd, st.size).toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw fail('is empty', 'write the passphrase into it');
    return text;
  } finally {
    closeSync(fd);
  }
}
