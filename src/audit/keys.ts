import {
  createPrivateKey, createPublicKey, generateKeyPairSync, hash as digest, sign, verify, type KeyObject,
} from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { ArmorerError } from '../core/errors.js';
import type { Checkpoint } from './types.js';

/** Files under `$ARMORER_HOME/keys/`. Other machines' public keys go in `audit-trusted/`. */
export const PRIVATE_KEY = 'audit-ed25519.key';
export const PUBLIC_KEY = 'audit-ed25519.pub';
export const TRUSTED_DIR = 'audit-trusted';

export interface TrustedKey {
  id: string;
  key: KeyObject;
  /** SPKI PEM, as exported. */
  pem: string;
  /** Where it came from (a file path, or `export header`). */
  source: string;
}

export interface CheckpointSigner {
  keyId: string;
  publicKeyPem: string;
  sign(seq: number, hash: string, time?: Date): Checkpoint;
}

/** First 16 hex digits of sha256 over the raw 32-byte Ed25519 public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return digest('sha256', spki.subarray(spki.length - 32), 'hex').slice(0, 16);
}

/** The bytes a checkpoint signature covers; the context string keeps it from meaning anything else. */
export function checkpointMessage(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ context: 'armorer.audit.checkpoint.v1', hash: c.hash, key_id: c.key_id, seq: c.seq, time: c.time }));
}

export type SignatureCheck = 'ok' | 'bad-signature' | 'untrusted-key';

export function checkSignature(c: Checkpoint, keys: ReadonlyMap<string, TrustedKey>): SignatureCheck {
  const k = keys.get(c.key_id);
  if (!k) return 'untrusted-key';
  let sig: Buffer;
  try {
    sig = Buffer.from(c.signature, 'base64');
  } catch {
    return 'bad-signature';
  }
  if (sig.length !== 64 || sig.toString('base64') !== c.signature) return 'bad-signature';
  return verify(null, checkpointMessage(c), k.key, sig) ? 'ok' : 'bad-signature';
}

/**
 * The signing key: `keys/audit-ed25519.key` (PKCS8 PEM, 0600), made on first use. Several
 * processes may start at once on a fresh home: the key is written to a temporary file and linked
 * into place, so exactly one wins and every process signs with the same key. An existing key is
 * never replaced; one readable by others is refused.
 */
export function loadOrCreateSigner(home: string): CheckpointSigner {
  const dir = join(home, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, PRIVATE_KEY);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    publishOnce(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  }
  const privateKey = readPrivateKey(file);
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const pubFile = join(dir, PUBLIC_KEY);
  if (!existsSync(pubFile)) publishOnce(pubFile, publicKeyPem);
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKeyPem,
    sign(seq, hash, time = new Date()) {
      const c = { seq, hash, time: time.toISOString(), key_id: keyId };
      return { ...c, signature: sign(null, checkpointMessage(c), privateKey).toString('base64') };
    },
  };
}

/**
 * The keys `armorer logs verify` trusts: this home's own public key (from the .pub file, or
 * derived from the private key) and every `keys/audit-trusted/*.pub` (other machines sharing a
 * PostgreSQL log). Nothing read from the log itself is trusted.
 */
export function loadTrustedKeys(home: string): TrustedKey[] {
  const dir = join(home, 'keys');
  const keys: TrustedKey[] = [];
  const pubFile = join(dir, PUBLIC_KEY);
  const privFile = join(dir, PRIVATE_KEY);
  if (existsSync(pubFile)) keys.push(readPublicKeyFile(pubFile));
  else if (existsSync(privFile)) keys.push(trusted(createPublicKey(readPrivateKey(privFile)), privFile));
  const trustedDir = join(dir, TRUSTED_DIR);
  if (existsSync(trustedDir)) {
    for (const name of readdirSync(trustedDir).filter((n) => n.endsWith('.pub')).sort()) {
      keys.push(readPublicKeyFile(join(trustedDir, name)));
    }
  }
  return keys;
}

export function readPublicKeyFile(file: string): TrustedKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw keyError(`cannot read the public key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, PUBLIC_FIX);
  }
  return publicKeyFromPem(text, file);
}

export function publicKeyFromPem(pem: string, source: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw keyError(`${source} is not a PEM public key`, PUBLIC_FIX);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw keyError(`${source} is a ${key.asymmetricKeyType} key, not Ed25519`, PUBLIC_FIX);
  return trusted(key, source);
}

function trusted(key: KeyObject, source: string): TrustedKey {
  return { id: keyIdOf(key), key, pem: key.export({ format: 'pem', type: 'spki' }) as string, source };
}

function readPrivateKey(file: string): KeyObject {
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw keyError(`${file} is readable or writable by other users`, `chmod 600 ${file}`);
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ArmorerError) throw e;
    throw keyError(`cannot read the audit signing key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    throw keyError(`${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw keyError(`${file} is a ${key.asymmetricKeyType} key, not Ed25519`);
  return key;
}

/** Writes `content` to `file` only if it does not exist yet, atomically (temp file + link). */
function publishOnce(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw keyError(`cannot write ${file}: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

const PUBLIC_FIX = 'pass the audit-ed25519.pub (PEM) of the machine that signed the log';

function keyError(message: string, fix = 'move the file away to have a new key made, or restore it from a backup'): ArmorerError {
  return new ArmorerError('ARMORER_E_AUDIT_KEY', message, fix);
}
