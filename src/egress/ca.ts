/**
 * The local certificate authority that lets the credential broker terminate TLS, used ONLY for
 * hosts that have a secret binding: every other CONNECT tunnel stays end-to-end encrypted.
 *
 * Built on @peculiar/x509 over Node's WebCrypto (pure JS, no native code): node-forge cannot make
 * ECDSA certificates, and the openssl CLI would be a runtime dependency outside npm.
 * @peculiar/x509 resolves its algorithms through tsyringe, which needs the reflect-metadata
 * polyfill loaded first.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, createHash, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArmorerError } from '../core/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface LocalCa {
  certPem: string;
  keyPath: string;
  certPath: string;
}
export interface Leaf {
  certPem: string;
  keyPem: string;
}

const KEY_FILE = 'ca-key.pem';
const CERT_FILE = 'ca-cert.pem';
const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_MS = 3652 * DAY_MS;
const LEAF_VALIDITY_MS = 7 * DAY_MS;
/** A cached leaf is issued again when it has less than this left. */
const LEAF_RENEW_MS = DAY_MS;
const MAX_CACHED_LEAVES = 256;
/** Labels of letters, digits and inner hyphens; a last label of digits only would be an address. */
const HOSTNAME_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function caError(message: string, dir?: string): ArmorerError {
  const fix = dir === undefined
    ? 'a bug if the name came from a policy: report it'
    : `move ${dir} away and run again: a new CA is made (nothing is ever overwritten)`;
  return new ArmorerError('ARMORER_E_CA', message, fix);
}

/** Creates the CA under `dir` once (key 0600, dir 0700) and returns it; later calls reuse it. */
export async function ensureCa(dir: string): Promise<LocalCa> {
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  await ensureDir(dir);
  const [hasKey, hasCert] = await Promise.all([exists(keyPath), exists(certPath)]);
  if (!hasKey && !hasCert) {
    if (await createCa(dir, keyPath, certPath)) return loadCa(dir, keyPath, certPath);
  }
  return loadCa(dir, keyPath, certPath, hasKey && hasCert ? 0 : 20);
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    if (!st.isDirectory()) throw caError(`${dir} is not a directory`, dir);
    if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  } catch (e) {
    if (e instanceof ArmorerError) throw e;
    throw caError(`cannot use the CA directory ${dir}: ${(e as Error).message}`, dir);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Writes the pair to temporary names and links them into place: link() never replaces a file, so a
 * concurrent creator loses cleanly (false) and reads the winner's CA instead.
 */
async function createCa(dir: string, keyPath: string, certPath: string): Promise<boolean> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=Armorer local CA ${randomBytes(6).toString('hex')}`,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + CA_VALIDITY_MS),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const tag = randomBytes(6).toString('hex');
  const tmpKey = join(dir, `.${KEY_FILE}.${tag}`);
  const tmpCert = join(dir, `.${CERT_FILE}.${tag}`);
  try {
    await writeFile(tmpKey, keyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(tmpCert, cert.toString('pem') + '\n', { mode: 0o644, flag: 'wx' });
    try {
      await link(tmpKey, keyPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    await link(tmpCert, certPath);
    return true;
  } catch (e) {
    throw caError(`cannot create the CA in ${dir}: ${(e as Error).message}`, dir);
  } finally {
    await Promise.all([unlink(tmpKey).catch(() => {}), unlink(tmpCert).catch(() => {})]);
  }
}

/** Reads and checks the pair; waits a little for a half-written pair from a concurrent creator. */
async function loadCa(dir: string, keyPath: string, certPath: string, waits = 20): Promise<LocalCa> {
  for (let i = 0; ; i++) {
    const [hasKey, hasCert] = await Promise.all([exists(keyPath), exists(certPath)]);
    if (hasKey && hasCert) break;
    if (i >= waits) {
      throw caError(`the CA in ${dir} is incomplete: ${hasKey ? CERT_FILE : KEY_FILE} is missing`, dir);
    }
    await sleep(50);
  }
  const keySt = await lstat(keyPath);
  if (!keySt.isFile()) throw caError(`${keyPath} is not a regular file`, dir);
  if ((keySt.mode & 0o077) !== 0) await chmod(keyPath, 0o600);
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  const key = parseKey(keyPem, keyPath, dir);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw caError(`${certPath} is not a certificate: ${(e as Error).message}`, dir);
  }
  if (!cert.ca) throw caError(`${certPath} is not a CA certificate`, dir);
  if (!cert.checkPrivateKey(key)) throw caError(`${keyPath} is not the key of ${certPath}`, dir);
  return { certPem, keyPath, certPath };
}

function parseKey(pem: string, path: string, dir: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw caError(`${path} is not a private key: ${(e as Error).message}`, dir);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw caError(`${path} is not an ECDSA P-256 key`, dir);
  }
  return key;
}

interface CachedLeaf extends Leaf { notAfter: number }
const leaves = new Map<string, Promise<CachedLeaf>>();

/** A short-lived leaf for exactly `hostname` (one DNS SAN), issued once per CA and host. */
export async function leafFor(ca: LocalCa, hostname: string): Promise<Leaf> {
  const host = hostname.toLowerCase();
  if (!HOSTNAME_RE.test(host) || /^[0-9]+$/.test(host.slice(host.lastIndexOf('.') + 1))) {
    throw caError(`cannot issue a certificate for "${hostname}": it is not a host name`);
  }
  const cacheKey = `${createHash('sha256').update(ca.certPem).digest('hex')} ${host}`;
  const cached = leaves.get(cacheKey);
  if (cached) {
    const leaf = await cached.catch(() => undefined);
    if (leaf && leaf.notAfter - Date.now() > LEAF_RENEW_MS) return { certPem: leaf.certPem, keyPem: leaf.keyPem };
  }
  if (leaves.size >= MAX_CACHED_LEAVES) leaves.clear();
  const issuing = issueLeaf(ca, host);
  leaves.set(cacheKey, issuing);
  issuing.catch(() => leaves.delete(cacheKey));
  const leaf = await issuing;
  return { certPem: leaf.certPem, keyPem: leaf.keyPem };
}

async function issueLeaf(ca: LocalCa, host: string): Promise<CachedLeaf> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeyPem = await readFile(ca.keyPath, 'utf8').catch((e: Error) => {
    throw caError(`cannot read the CA key ${ca.keyPath}: ${e.message}`, dirname(ca.keyPath));
  });
  const caDer = parseKey(caKeyPem, ca.keyPath, dirname(ca.keyPath)).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', caDer, EC, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const notAfter = now + LEAF_VALIDITY_MS;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${host}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  const keyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem') + '\n', keyPem, notAfter };
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 serials). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
