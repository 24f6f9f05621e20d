/**
 * The few age operations the store needs, on top of age-encryption (typage). Files are written in
 * age's binary format, so the `age` command-line tool reads them; armored files are read too.
 * Failures come back as data, because only the caller knows which file it was and what to advise.
 */
import { Decrypter, Encrypter, armor, generateX25519Identity, identityToRecipient } from 'age-encryption';

/** age's own default for `age -p`; typage refuses to decrypt above 20. */
export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
export const MAX_SCRYPT_WORK_FACTOR = 20;

export type Decrypted =
  | { ok: true; text: string }
  /** no-match: the header is intact but no key fits (wrong passphrase or identity). */
  | { ok: false; failure: 'no-match' | 'damaged'; detail: string };

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function newIdentity(): Promise<{ identity: string; recipient: string }> {
  // X25519 on purpose, not the post-quantum hybrid: Debian's age 1.1 must read the store.
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

export async function encryptWithPassphrase(plain: string, passphrase: string, workFactor: number): Promise<Uint8Array> {
  if (!Number.isInteger(workFactor) || workFactor < 1 || workFactor > MAX_SCRYPT_WORK_FACTOR) {
    throw new RangeError(`scrypt work factor ${workFactor} is outside 1..${MAX_SCRYPT_WORK_FACTOR}`);
  }
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(workFactor);
  return e.encrypt(plain);
}

export async function encryptToRecipients(plain: string, recipients: string[]): Promise<Uint8Array> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e.encrypt(plain);
}

export async function decryptWithPassphrase(file: Uint8Array, passphrase: string): Promise<Decrypted> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  return decrypt(d, file);
}

export async function decryptWithIdentity(file: Uint8Array, identity: string): Promise<Decrypted> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return decrypt(d, file);
}

async function decrypt(d: Decrypter, file: Uint8Array): Promise<Decrypted> {
  let raw = file;
  try {
    const head = Buffer.from(file.subarray(0, 64)).toString('latin1').trimStart();
    if (head.startsWith(ARMOR_BEGIN)) raw = armor.decode(Buffer.from(file).toString('latin1'));
    return { ok: true, text: utf8.decode(await d.decrypt(raw)) };
  } catch (e) {
    const detail = (e as Error)?.message ?? String(e);
    // typage 0.3.1's words for "the header parsed, but none of our keys opened it"; any other
    // failure (format, header MAC, payload tag, UTF-8) means the bytes are not what was written.
    return { ok: false, failure: /no identity matched/.test(detail) ? 'no-match' : 'damaged', detail };
  }
}

/**
 * The identity in an age identity file (`age-keygen` format: comments, blank lines, one key).
 * Returns undefined unless there is exactly one key line.
 */
export function parseIdentityFile(text: string): string | undefined {
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(key) ? key : undefined;
}

/** The same layout `age-keygen` writes, so `age -d identity.age > key.txt` gives a usable key file. */
export function formatIdentityFile(identity: string, recipient: string, created: Date): string {
  return `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
}
