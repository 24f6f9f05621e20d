/**
 * Reading and writing the two encrypted files, with the errors a person can act on. Every read
 * failure leaves the files untouched: a store that does not decrypt is never replaced by a new one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ArmorerError } from '../core/errors.js';
import {
  decryptWithIdentity, decryptWithPassphrase, encryptToRecipients, encryptWithPassphrase, formatIdentityFile,
  MAX_SCRYPT_WORK_FACTOR, parseIdentityFile, recipientOf,
} from './age.js';
import { parseDocument, serializeDocument, type SecretsDocument } from './document.js';
import { checkPrivateDir, readStoreFile, storeError, storeState, writeStoreFile, type StorePaths } from './layout.js';

const UNCHANGED = 'Armorer has not changed it';

/** Refuses unless both encrypted files are there, in a private directory. */
export function requireStore(p: StorePaths): void {
  const state = storeState(p);
  if (state === 'absent') {
    throw storeError(`there is no secrets store in ${p.dir}`, 'create one with "armorer secrets init"');
  }
  if (state === 'partial') {
    const missing = existsSync(p.identity) ? 'secrets.age' : 'identity.age';
    throw storeError(`the secrets store in ${p.dir} is incomplete: ${missing} is missing`,
      `restore ${missing} from a backup; if the store was never used, move ${p.dir} away and run "armorer secrets init"`);
  }
  checkPrivateDir(p.dir);
}

/** For init: refuses if a store, or part of one, is there. */
export function requireNoStore(p: StorePaths): void {
  if (storeState(p) !== 'absent') {
    throw storeError(`a secrets store already exists in ${p.dir}`,
      `use it ("armorer secrets list"); to start over, move ${p.dir} away first (its secrets are lost without the passphrase)`);
  }
}

/** The identity inside identity.age, and its recipient. A wrong passphrase has its own code. */
export async function readIdentity(p: StorePaths, passphrase: string): Promise<{ identity: string; recipient: string }> {
  const r = await decryptWithPassphrase(readStoreFile(p.identity, 'identity'), passphrase);
  if (!r.ok && r.failure === 'no-match') {
    throw new ArmorerError('ARMORER_E_PASSPHRASE', `the passphrase does not open ${p.identity}`,
      'type the passphrase given at "armorer secrets init" (check ARMORER_PASSPHRASE_FILE / ARMORER_PASSPHRASE if set)');
  }
  if (!r.ok) {
    const tooHard = /work factor is too high/.test(r.detail);
    throw storeError(`${p.identity} cannot be decrypted: ${r.detail}`, tooHard
      ? `re-encrypt it with an scrypt work factor of at most ${MAX_SCRYPT_WORK_FACTOR} (age -p uses 18); ${UNCHANGED}`
      : `restore it from a backup; ${UNCHANGED}`);
  }
  const identity = parseIdentityFile(r.text);
  if (identity === undefined) {
    throw storeError(`${p.identity} decrypts, but not to one age identity (AGE-SECRET-KEY-1...)`, `restore it from a backup; ${UNCHANGED}`);
  }
  return { identity, recipient: await recipientOf(identity) };
}

export async function readDocument(p: StorePaths, identity: string): Promise<SecretsDocument> {
  const r = await decryptWithIdentity(readStoreFile(p.secrets, 'secrets'), identity);
  if (!r.ok) {
    const why = r.failure === 'no-match' ? 'is not encrypted to this store\'s identity' : `cannot be decrypted (${r.detail})`;
    throw storeError(`${p.secrets} ${why}`, `restore it from a backup; ${UNCHANGED}`);
  }
  const parsed = parseDocument(r.text);
  if ('problem' in parsed) throw storeError(`${p.secrets} decrypts, but ${parsed.problem}`, `restore it from a backup; ${UNCHANGED}`);
  return parsed.doc;
}

export async function writeDocument(p: StorePaths, doc: SecretsDocument, recipients: string[]): Promise<void> {
  writeStoreFile(p.secrets, await encryptToRecipients(serializeDocument(doc), recipients));
}

export async function writeIdentity(p: StorePaths, identity: string, recipient: string, passphrase: string, workFactor: number): Promise<void> {
  const text = formatIdentityFile(identity, recipient, new Date());
  writeStoreFile(p.identity, await encryptWithPassphrase(text, passphrase, workFactor));
}

/** recipient.txt is derived data: rewritten whenever it is missing or names another key. */
export function syncRecipient(p: StorePaths, recipient: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(p.recipient, 'utf8').trim();
  } catch {
    current = undefined;
  }
  if (current !== recipient) writeStoreFile(p.recipient, `${recipient}\n`);
}

/** recipient.txt, checked to look like a recipient; it is public, so no unlock is needed. */
export function readRecipient(p: StorePaths): string {
  requireStore(p);
  if (!existsSync(p.recipient)) {
    throw storeError(`${p.recipient} is missing`, 'any change to the store ("armorer secrets set", "rm", "rotate-key") rewrites it');
  }
  const text = Buffer.from(readStoreFile(p.recipient, 'recipient')).toString('utf8').trim();
  if (!/^age1[02-9ac-hj-np-z]+$/.test(text)) {
    throw storeError(`${p.recipient} does not hold an age recipient`, 'any change to the store ("armorer secrets set", "rm", "rotate-key") rewrites it');
  }
  return text;
}
