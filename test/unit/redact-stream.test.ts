import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { Redactor, createRedactStream, redactString, type RedactorOptions } from '../../src/secrets/redact/index.js';

const SECRET = 'Zq9-vault-token-4c1e';
const GH = ['gh', 'p_', 'Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8'].join('');
const opts: RedactorOptions = { secrets: [{ name: 'VAULT_TOKEN', value: SECRET }] };

/** Deterministic filler with no secret and no trigger in it: words, numbers, punctuation. */
function filler(bytes: number): string {
  const words = ['the', 'build', 'passed', 'in', 'seconds', 'compiling', 'module', 'cache', 'miss', 'ok', 'warning:', 'unused', 'value', '(3)', '[info]'];
  const out: string[] = [];
  let len = 0;
  for (let i = 0; len < bytes; i++) {
    const h = createHash('sha256').update(String(i)).digest();
    const line = `${i} ${Array.from(h.subarray(0, 12), (b) => words[b % words.length]).join(' ')}.\n`;
    out.push(line);
    len += line.length;
  }
  return out.join('').slice(0, bytes);
}

describe('streaming behaviour', () => {
  test('writes at once everything that cannot start a match', () => {
    const r = new Redactor(opts);
    for (const line of ['compiling 12 modules...\n', 'done in 3.2s.\n', '{"status":200}\n', '$ \n']) {
      assert.equal(r.push(line), line);
      assert.equal(r.pending, 0);
    }
  });

  test('holds back one pending match only, and writes what came before it', () => {
    const r = new Redactor(opts);
    assert.equal(r.push(`GITHUB_TOKEN=${GH.slice(0, 20)}`), 'GITHUB_TOKEN=');
    assert.equal(r.pending, 20);
    assert.equal(r.push(`${GH.slice(20)} ok\n`), '[REDACTED:github-token] ok\n');
    assert.equal(r.pending, 0);
  });

  test('decides a token that ends exactly at the end of a write when the next write starts', () => {
    const r = new Redactor(opts);
    assert.equal(r.push(`x ${GH}`), 'x ', 'a token may still go on: held');
    assert.equal(r.push('\n'), '[REDACTED:github-token]\n');
  });

  test('flush decides a held token and a held partial secret', () => {
    const r = new Redactor(opts);
    assert.equal(r.push(`a ${GH}`), 'a ');
    assert.equal(r.flush(), '[REDACTED:github-token]');
    assert.equal(r.push(`b ${SECRET.slice(0, 9)}`), 'b ');
    assert.equal(r.flush(), SECRET.slice(0, 9));
  });

  test('keeps memory bounded: 10 MB with no match, in 64 KiB writes', () => {
    const r = new Redactor(opts);
    const text = filler(10 * 1024 * 1024);
    let out = '';
    let maxPending = 0;
    for (let i = 0; i < text.length; i += 65536) {
      out += r.push(text.slice(i, i + 65536));
      maxPending = Math.max(maxPending, r.pending);
    }
    out += r.flush();
    assert.equal(out, text);
    assert.ok(maxPending < 64, `held back at most ${maxPending} characters`);
  });

  test('keeps memory bounded on text built to keep matches pending', () => {
    const r = new Redactor(opts);
    const feeds = [
      'eyJ' + 'A'.repeat(200_000),                        // a JWT header that never ends
      `${SECRET.slice(0, 10)}`.repeat(20_000),            // endless partial secrets
      '-----BEGIN PRIVATE KEY-----\n' + 'QUJD\n'.repeat(40_000), // a key with no END line
      'sk-' + '-'.repeat(100_000),
    ];
    for (const feed of feeds) {
      let maxPending = 0;
      for (let i = 0; i < feed.length; i += 4096) {
        r.push(feed.slice(i, i + 4096));
        maxPending = Math.max(maxPending, r.pending);
      }
      r.flush();
      assert.ok(maxPending <= r.maxHold, `${feed.slice(0, 12)}...: held ${maxPending} <= ${r.maxHold}`);
    }
  });

  test('redacts a private key longer than the hold bound without leaking any of its lines', () => {
    const lines = Array.from({ length: 700 }, (_, i) => createHash('sha384').update(String(i)).digest('base64'));
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${lines.join('\n')}\n-----END RSA PRIVATE KEY-----`;
    assert.ok(key.length > 32 * 1024);
    for (const size of [1000, 4096, 65536]) {
      const r = new Redactor(opts);
      let out = '';
      const text = `before\n${key}\nafter\n`;
      for (let i = 0; i < text.length; i += size) out += r.push(text.slice(i, i + size));
      out += r.flush();
      assert.equal(out, 'before\n[REDACTED:private-key]\nafter\n', `writes of ${size}`);
      assert.equal(r.count, 1);
    }
  });

  test('never splits a surrogate pair between what is written and what is held', () => {
    const o: RedactorOptions = { secrets: [{ name: 'EMOJI_KEY', value: '😀😀secret😀' }], patterns: false };
    const r = new Redactor(o);
    const out = r.push('ok 😀😀sec');
    assert.equal(out, 'ok ');
    assert.equal(r.push('ond\n'), '😀😀second\n');
  });

  test('keeps the order when a string follows bytes that ended inside a character', () => {
    const r = new Redactor(opts);
    const e = Buffer.from('é', 'utf8');
    assert.equal(r.push(Buffer.concat([Buffer.from('ok '), e.subarray(0, 1)])) + r.push(' next\n') + r.flush(), 'ok \uFFFD next\n');
  });

  test('counts each marker once, whatever the write sizes', () => {
    const text = `${SECRET} ${GH} ${Buffer.from(SECRET).toString('base64')}\n`.repeat(5);
    for (const size of [1, 3, 17, text.length]) {
      const r = new Redactor(opts);
      for (let i = 0; i < text.length; i += size) r.push(text.slice(i, i + size));
      r.flush();
      assert.equal(r.count, 15, `writes of ${size}`);
    }
  });

  test('redactString redacts a whole string and reuses the index for the same options', () => {
    assert.equal(redactString(`token=${SECRET}`, opts), 'token=[REDACTED:VAULT_TOKEN]');
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) redactString(`line ${i} ${SECRET}`, opts);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 2000, `1000 audit fields in ${ms.toFixed(0)} ms`);
  });
});

describe('createRedactStream', () => {
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const text = `héllo wörld ${SECRET} ✓ ${GH}\n${key}done ✓\n`;
  const expected = 'héllo wörld [REDACTED:VAULT_TOKEN] ✓ [REDACTED:github-token]\n[REDACTED:private-key]\ndone ✓\n';

  test('redacts bytes to bytes across every byte boundary, and never splits a UTF-8 character', async () => {
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut += 3) {
      const chunks: Buffer[] = [];
      const stream = createRedactStream(opts);
      stream.on('data', (c: Buffer) => chunks.push(c));
      await pipeline(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]), stream);
      assert.equal(Buffer.concat(chunks).toString('utf8'), expected, `cut at byte ${cut}`);
      for (const c of chunks) assert.equal(Buffer.from(c.toString('utf8'), 'utf8').compare(c), 0, 'each chunk is whole UTF-8');
      assert.equal(stream.redactor.count, 3);
    }
  });

  test('works one byte at a time', async () => {
    const bytes = Buffer.from(text, 'utf8');
    const out = await buffer(Readable.from(Array.from(bytes, (b) => Buffer.from([b]))).pipe(createRedactStream(opts)));
    assert.equal(out.toString('utf8'), expected);
  });
});
