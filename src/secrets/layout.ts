/**
 * Where the store lives and how its files are read and written. `$ARMORER_HOME/secrets/` (0700):
 *   identity.age   the X25519 identity, encrypted with the passphrase (age scrypt recipient)
 *   secrets.age    the secrets document, encrypted to that identity's recipient
 *   recipient.txt  the recipient (age1...), so others can encrypt to the store without unlocking it
 * Every file is 0600 and replaced whole (temp + fsync + rename + directory fsync).
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ArmorerError } from '../core/errors.js';

export interface StorePaths { dir: string; identity: string; secrets: string; recipient: string; lock: string }

export function storePaths(armorerHome: string): StorePaths {
  const dir = join(armorerHome, 'secrets');
  return {
    dir,
    identity: join(dir, 'identity.age'),
    secrets: join(dir, 'secrets.age'),
    recipient: join(dir, 'recipient.txt'),
    lock: join(dir, 'lock'),
  };
}

/** Far above any real store; a bound on what a damaged or hostile file can make us read. */
const MAX_BYTES = { identity: 64 * 1024, secrets: 16 * 1024 * 1024, recipient: 4096 } as const;

export type StoreState = 'absent' | 'present' | 'partial';

/** `partial`: one of the two encrypted files is missing, which no Armorer write ever leaves. */
export function storeState(p: StorePaths): StoreState {
  const has = (f: string) => {
    try {
      statSync(f);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(`cannot look at ${f}: ${(e as Error).message}`, `check the permissions of ${p.dir}`);
    }
  };
  const identity = has(p.identity);
  const secrets = has(p.secrets);
  if (identity && secrets) return 'present';
  return identity || secrets ? 'partial' : 'absent';
}

/** Makes the directory (and $ARMORER_HOME) 0700 if missing; refuses one others can enter. */
export function ensureStoreDir(p: StorePaths): void {
  try {
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw storeError(`cannot create ${p.dir}: ${(e as Error).message}`,
      'check the permissions of its parent, or set ARMORER_HOME to a directory you own');
  }
  checkPrivateDir(p.dir);
}

export function checkPrivateDir(dir: string): void {
  const st = statSync(dir);
  if (!st.isDirectory()) throw storeError(`${dir} is not a directory`, `move it away; "armorer secrets init" makes the directory`);
  checkOwnerAndMode(dir, st.uid, st.mode, 'chmod 700');
}

/**
 * Reads one store file: regular, owned by us, not readable by others, and not larger than its
 * bound. Checked on the open descriptor, so a swap between check and read does not matter.
 */
export function readStoreFile(path: string, kind: keyof typeof MAX_BYTES): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw storeError(code === 'ELOOP' ? `${path} is a symbolic link` : `cannot read ${path}: ${(e as Error).message}`,
      code === 'ENOENT' ? 'run "armorer secrets init" to create the store' : 'the store files must be plain files you own, mode 0600');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw storeError(`${path} is not a regular file`, 'the store files must be plain files you own, mode 0600');
    checkOwnerAndMode(path, st.uid, st.mode, 'chmod 600');
    if (st.size > MAX_BYTES[kind]) {
      throw storeError(`${path} is ${st.size} bytes, more than a ${kind} file can be (${MAX_BYTES[kind]})`,
        'restore it from a backup; Armorer did not change it');
    }
    return readUpTo(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

export function writeStoreFile(path: string, content: string | Uint8Array): void {
  try {
    writeFileAtomic(path, content, 0o600);
  } catch (e) {
    throw storeError(`cannot write ${path}: ${(e as Error).message}`,
      'check free space and the permissions of the secrets directory; the previous file is unchanged');
  }
}

/** Temp files a crash between write and rename would leave; harmless, removed under the lock. */
export function leftoverTempFiles(p: StorePaths): string[] {
  return readdirSync(p.dir).filter((f) => /^(identity|secrets)\.age\.[0-9a-f]+\.tmp$|^recipient\.txt\.[0-9a-f]+\.tmp$/.test(f))
    .map((f) => join(p.dir, f));
}

function checkOwnerAndMode(path: string, uid: number, mode: number, chmod: string): void {
  const me = process.getuid?.();
  if (me !== undefined && uid !== me) {
    throw storeError(`${path} belongs to uid ${uid}, not to you (uid ${me})`, `run Armorer as the owner, or set ARMORER_HOME to your own directory`);
  }
  if ((mode & 0o077) !== 0) {
    throw storeError(`${path} is accessible to other users (mode ${(mode & 0o777).toString(8)})`, `${chmod} ${path}`);
  }
}

export function storeError(message: string, fix: string): ArmorerError {
  return new ArmorerError('ARMORER_E_SECRETS_STORE', message, fix);
}

/** Reads up to `size` bytes from the start of an open file (fewer if it shrank meanwhile). */
export function readUpTo(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}
