import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import { base64Core } from '../../src/secrets/redact/encodings.js';
import { Redactor, encodedForms, redactString, type RedactorOptions } from '../../src/secrets/redact/index.js';

// Spaces, "/", "+", quotes, a backslash and non-ASCII: every encoding differs from the value.
const VALUE = 'pa ss/wo+rd"\\é-Ünïcødé';
const opts: RedactorOptions = { secrets: [{ name: 'DB_PASSWORD', value: VALUE }], patterns: false };
const MARK = '[REDACTED:DB_PASSWORD]';

const bytes = Buffer.from(VALUE, 'utf8');
const b64 = bytes.toString('base64');
const forms: Record<string, string> = {
  'raw': VALUE,
  'base64': b64,
  'base64 without padding': b64.replace(/=+$/, ''),
  'base64url': bytes.toString('base64url'),
  'URL-encoded': encodeURIComponent(VALUE),
  'form-encoded': encodeURIComponent(VALUE).replace(/%20/g, '+'),
  'URL-encoded, lower-case hex': encodeURIComponent(VALUE).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'hex': bytes.toString('hex'),
  'HEX': bytes.toString('hex').toUpperCase(),
  'JSON-escaped': JSON.stringify(VALUE).slice(1, -1),
  'JSON-escaped, ASCII only': JSON.stringify(VALUE).slice(1, -1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
};

describe('secret values and their encodings', () => {
  for (const [kind, form] of Object.entries(forms)) {
    test(`redacts the ${kind} form`, () => {
      assert.notEqual(form, kind === 'raw' ? '' : VALUE, 'the form differs from the value');
      assert.equal(redactString(`before ${form} after`, opts), `before ${MARK} after`);
    });
  }

  test('redacts the value inside a larger base64 blob at every offset mod 3', () => {
    for (const shift of [0, 1, 2, 3, 4, 5]) {
      const blob = Buffer.concat([Buffer.from('x'.repeat(shift)), bytes, Buffer.from('<trailing data>')]).toString('base64');
      const core = base64Core(bytes, (shift % 3) as 0 | 1 | 2, false);
      assert.ok(blob.includes(core), 'the core is what any blob holding the value contains');
      const out = redactString(`blob=${blob}`, opts);
      assert.ok(out.includes(MARK) && !out.includes(core), `offset ${shift}: ${out}`);
      // At most 2 characters either side carry bits of the value (the rest of their bits are not its).
      assert.ok(out.length - MARK.length >= blob.length - core.length + 'blob='.length);
    }
  });

  test('redacts a multi-line value written through a terminal (\\n became \\r\\n)', () => {
    const o: RedactorOptions = { secrets: [{ name: 'CERT_KEY', value: 'line-one\nline-two\nline-three' }], patterns: false };
    assert.equal(redactString('x line-one\r\nline-two\r\nline-three y', o), 'x [REDACTED:CERT_KEY] y');
  });

  test('lists the encoded forms without duplicates', () => {
    const list = encodedForms('AbCdEfGh12345678');
    assert.equal(new Set(list).size, list.length);
    assert.ok(list.includes('AbCdEfGh12345678') && list.includes(Buffer.from('AbCdEfGh12345678').toString('hex')));
  });

  test('redacts overlapping secrets once, as one marker', () => {
    const o: RedactorOptions = { secrets: [{ name: 'A', value: 'abcdef12' }, { name: 'B', value: 'ef12ghij' }], patterns: false };
    const r = new Redactor(o);
    assert.equal(r.push('<abcdef12ghij>') + r.flush(), '<[REDACTED:A]>');
    assert.equal(r.count, 1);
  });

  test('names a value shared by two secrets after the first', () => {
    const o: RedactorOptions = { secrets: [{ name: 'FIRST', value: 'same-value-1' }, { name: 'SECOND', value: 'same-value-1' }] };
    assert.equal(redactString('same-value-1', o), '[REDACTED:FIRST]');
  });
});

describe('secrets split across writes', () => {
  const text = `log: ${VALUE} and ${forms['base64']} end.\n`;
  const expected = `log: ${MARK} and ${MARK} end.\n`;

  test('catches a secret split at every character offset over two pushes', () => {
    for (let i = 0; i <= text.length; i++) {
      const r = new Redactor(opts);
      const out = r.push(text.slice(0, i)) + r.push(text.slice(i)) + r.flush();
      assert.equal(out, expected, `split at ${i}`);
      assert.equal(r.count, 2);
    }
  });

  test('catches a secret split at every byte offset of its UTF-8 (multi-byte characters cut in two)', () => {
    const buf = Buffer.from(text, 'utf8');
    for (let i = 0; i <= buf.length; i++) {
      const r = new Redactor(opts);
      const out = r.push(buf.subarray(0, i)) + r.push(buf.subarray(i)) + r.flush();
      assert.equal(out, expected, `split at byte ${i}`);
    }
  });

  test('catches a secret fed one character at a time, and in pieces of 2, 3 and 5', () => {
    for (const size of [1, 2, 3, 5]) {
      const r = new Redactor(opts);
      let out = '';
      for (let i = 0; i < text.length; i += size) out += r.push(text.slice(i, i + size));
      assert.equal(out + r.flush(), expected, `pieces of ${size}`);
    }
  });

  test('holds back only the partial secret, and writes it once it turns out to be something else', () => {
    const r = new Redactor(opts);
    assert.equal(r.push('prefix pa ss/wo'), 'prefix ');
    assert.equal(r.pending, 'pa ss/wo'.length);
    assert.equal(r.push('ttle\n'), 'pa ss/wottle\n');
    assert.equal(r.pending, 0);
  });

  test('flush releases a held partial secret as it is', () => {
    const r = new Redactor(opts);
    assert.equal(r.push('tail pa ss/'), 'tail ');
    assert.equal(r.flush(), 'pa ss/');
  });
});

describe('secrets the redactor refuses', () => {
  const refused = (o: RedactorOptions) => assert.throws(() => new Redactor(o), (e) => isArmorerError(e) && e.code === 'ARMORER_E_SECRET');

  test('refuses a value under 4 characters (it would hide ordinary words)', () => refused({ secrets: [{ name: 'PIN', value: 'abc' }] }));
  test('accepts a 4-character value and redacts it', () => {
    assert.equal(redactString('pin=4321.', { secrets: [{ name: 'PIN', value: '4321' }], patterns: false }), 'pin=[REDACTED:PIN].');
  });
  test('refuses a name that would break the marker', () => refused({ secrets: [{ name: 'BAD]NAME', value: 'long enough value' }] }));
  test('refuses a value with a lone surrogate', () => refused({ secrets: [{ name: 'K', value: 'abcd\uD800efgh' }] }));
  test('refuses options without a list of secrets', () => refused({} as RedactorOptions));
});
