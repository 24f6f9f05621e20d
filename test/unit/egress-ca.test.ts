import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import { ensureCa, leafFor } from '../../src/egress/ca.js';

const root = mkdtempSync(join(tmpdir(), 'armorer-ca-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `ca-${n++}`);
const isCaError = (e: unknown): boolean => isArmorerError(e) && e.code === 'ARMORER_E_CA';
const YEAR_MS = 365 * 24 * 3600 * 1000;

describe('ensureCa', () => {
  test('creates an ECDSA P-256 CA with pathlen 0 and keyCertSign, valid for ten years', async () => {
    const ca = await ensureCa(freshDir());
    const cert = new X509Certificate(ca.certPem);
    assert.match(cert.subject, /^CN=Armorer local CA [0-9a-f]{12}$/);
    assert.equal(cert.ca, true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (Date.parse(cert.validTo) - Date.now()) / YEAR_MS;
    assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
    const parsed = new x509.X509Certificate(ca.certPem);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, true);
    assert.equal(bc?.pathLength, 0);
    const ku = parsed.getExtension(x509.KeyUsagesExtension);
    assert.ok(ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0);
  });

  test('keeps the key 0600 in a 0700 directory and reuses the CA on a second call', async () => {
    const dir = freshDir();
    const first = await ensureCa(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(first.keyPath).mode & 0o777, 0o600);
    const keyBefore = readFileSync(first.keyPath, 'utf8');
    const second = await ensureCa(dir);
    assert.equal(second.certPem, first.certPem);
    assert.equal(readFileSync(second.keyPath, 'utf8'), keyBefore);
  });

  test('makes one CA when two first calls race', async () => {
    const dir = freshDir();
    const [a, b] = await Promise.all([ensureCa(dir), ensureCa(dir)]);
    assert.equal(a.certPem, b.certPem);
  });

  test('refuses a corrupted key with a coded error and leaves it as it was', async () => {
    const dir = freshDir();
    const ca = await ensureCa(dir);
    writeFileSync(ca.keyPath, 'not a key\n');
    await assert.rejects(ensureCa(dir), isCaError);
    assert.equal(readFileSync(ca.keyPath, 'utf8'), 'not a key\n');
    assert.equal(readFileSync(ca.certPath, 'utf8'), ca.certPem);
  });

  test('refuses a certificate that does not belong to the key', async () => {
    const dir = freshDir();
    const ca = await ensureCa(dir);
    const other = await ensureCa(freshDir());
    writeFileSync(ca.certPath, other.certPem);
    await assert.rejects(ensureCa(dir), isCaError);
    assert.equal(readFileSync(ca.certPath, 'utf8'), other.certPem);
  });

  test('refuses a half-made CA instead of completing it', async () => {
    const dir = freshDir();
    const ca = await ensureCa(dir);
    unlinkSync(ca.certPath);
    await assert.rejects(ensureCa(dir), isCaError);
    assert.equal(statSync(ca.keyPath).isFile(), true);
  });
});

describe('leafFor', () => {
  test('issues a leaf for exactly the host, signed by the CA, valid for about a week', async () => {
    const ca = await ensureCa(freshDir());
    const leaf = await leafFor(ca, 'api.example.test');
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.equal(cert.subjectAltName, 'DNS:api.example.test');
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
    assert.equal(cert.checkHost('api.example.test'), 'api.example.test');
    assert.equal(cert.checkHost('evil.example.test'), undefined);
    const days = (Date.parse(cert.validTo) - Date.now()) / (24 * 3600 * 1000);
    assert.ok(days > 6.9 && days <= 7, `valid for ${days} days`);
  });

  test('caches one leaf per host', async () => {
    const ca = await ensureCa(freshDir());
    const a = await leafFor(ca, 'a.example.test');
    assert.equal((await leafFor(ca, 'a.example.test')).certPem, a.certPem);
    assert.notEqual((await leafFor(ca, 'b.example.test')).certPem, a.certPem);
  });

  test('refuses an IP address or a malformed name', async () => {
    const ca = await ensureCa(freshDir());
    for (const bad of ['127.0.0.1', '*.example.test', 'a..b', 'exa mple.test', '-x.test', '']) {
      await assert.rejects(leafFor(ca, bad), isCaError, bad);
    }
  });
});
