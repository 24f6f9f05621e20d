import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { isArmorerError } from '../../src/core/errors.js';
import { SurrogateTable, makeSurrogate } from '../../src/egress/surrogates.js';
import { EnvSecretSource } from '../../src/secrets/source.js';

const OPENAI = 'sk-proj-Q2x9vB7kLmN3pR5tW8yZ1aC4dF6gH0jK';
const ANTHROPIC = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCd';
const GITHUB = 'ghp_0123456789abcdefABCDEF0123456789abcd';
const SLACK = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const PLAIN = 'correct/horse+battery=staple';

const table = (): SurrogateTable => SurrogateTable.create([
  { name: 'OPENAI_API_KEY', host: 'api.openai.com', value: OPENAI },
  { name: 'GITHUB_TOKEN', host: 'api.github.com', value: GITHUB },
  { name: 'PLAIN', host: 'api.openai.com', value: PLAIN },
]);

/** Digits, lower case, upper case, or the character itself. */
const classOf = (c: string): string => (/[0-9]/.test(c) ? 'digit' : /[a-z]/.test(c) ? 'lower' : /[A-Z]/.test(c) ? 'upper' : c);

describe('surrogate shape', () => {
  test('keeps a known prefix and the length and alphabet of the rest', () => {
    for (const [real, prefix] of [[OPENAI, 'sk-proj-'], [ANTHROPIC, 'sk-ant-api03-'], [GITHUB, 'ghp_'], [SLACK, 'xoxb-']] as const) {
      const s = makeSurrogate(real);
      assert.ok(s.startsWith(prefix), `${s} keeps ${prefix}`);
      assert.equal(s.length, real.length);
      const allowed = new Set([...real.slice(prefix.length)].map(classOf));
      assert.ok([...s.slice(prefix.length)].every((c) => allowed.has(classOf(c))), `${s} stays in the alphabet of ${real}`);
    }
  });

  test('keeps a hexadecimal rest hexadecimal', () => {
    const s = makeSurrogate('ghp_0123456789abcdef0123456789abcdef');
    assert.match(s, /^ghp_[0-9a-f]{32}$/);
  });

  test('gives a value without a known prefix a surrogate of the same length, punctuation where it stands', () => {
    const s = makeSurrogate(PLAIN);
    assert.equal(s.length, PLAIN.length);
    assert.equal(s.replace(/[A-Za-z0-9]/g, '.'), PLAIN.replace(/[A-Za-z0-9]/g, '.'));
    assert.notEqual(s, PLAIN);
  });

  test('never equals or contains the real value', () => {
    for (let i = 0; i < 50; i++) {
      const t = SurrogateTable.create([{ name: 'K', host: 'h.example', value: 'ghp_0000000a' }]);
      const s = t.surrogates().K!;
      assert.notEqual(s, 'ghp_0000000a');
      assert.ok(!s.includes('ghp_0000000a'));
    }
  });

  test('refuses a secret too short to substitute safely, or one with a line break', () => {
    assert.throws(() => SurrogateTable.create([{ name: 'K', host: 'h.example', value: 'sk-abc' }]),
      (e) => isArmorerError(e) && e.code === 'ARMORER_E_SECRET');
    assert.throws(() => SurrogateTable.create([{ name: 'K', host: 'h.example', value: 'abcdefgh\r\nX-Evil: 1' }]),
      (e) => isArmorerError(e) && e.code === 'ARMORER_E_SECRET');
  });

  test('gives one surrogate to a secret bound to several hosts', () => {
    const t = SurrogateTable.create([
      { name: 'K', host: 'a.example', value: OPENAI }, { name: 'K', host: 'b.example', value: OPENAI },
    ]);
    const s = t.surrogates().K!;
    assert.equal(t.substitute(s, 'a.example').out.toString(), OPENAI);
    assert.equal(t.substitute(s, 'b.example').out.toString(), OPENAI);
  });
});

describe('substitution', () => {
  test('replaces a surrogate only on its own host and reports it as foreign elsewhere', () => {
    const t = table();
    const s = t.surrogates().OPENAI_API_KEY!;
    const here = t.substitute(`Bearer ${s}`, 'api.openai.com');
    assert.equal(here.out.toString(), `Bearer ${OPENAI}`);
    assert.deepEqual(here.replaced, ['OPENAI_API_KEY']);
    const there = t.substitute(`Bearer ${s}`, 'api.github.com');
    assert.equal(there.out.toString(), `Bearer ${s}`);
    assert.deepEqual(there.foreign, ['OPENAI_API_KEY']);
    assert.deepEqual(there.replaced, []);
  });

  test('writes the real value percent-encoded in a URL and escaped in JSON', () => {
    const t = table();
    const s = t.surrogates().PLAIN!;
    assert.equal(t.substitute(`/v1?key=${s}`, 'api.openai.com', 'url').out.toString(),
      `/v1?key=${encodeURIComponent(PLAIN)}`);
    assert.equal(new URLSearchParams(t.substitute(`key=${s}`, 'api.openai.com', 'url').out.toString()).get('key'), PLAIN);
    assert.equal(JSON.parse(t.substitute(`{"k":"${s}"}`, 'api.openai.com', 'json').out.toString()).k, PLAIN);
  });

  test('replaces a surrogate the client percent-encoded itself', () => {
    const real = 'sk-aB3+dE5/gH7=jK9+mN1/pQ';
    const t = SurrogateTable.create([{ name: 'K', host: 'h.example', value: real }]);
    const encoded = encodeURIComponent(t.surrogates().K!);
    const out = t.substitute(`/x?k=${encoded}`, 'h.example').out.toString();
    assert.equal(new URLSearchParams(out.split('?')[1]).get('k'), real);
  });

  test('replaces a surrogate inside Basic credentials', () => {
    const t = table();
    const basic = Buffer.from(`user:${t.surrogates().GITHUB_TOKEN}`).toString('base64');
    const sub = t.substituteHeader('Authorization', `Basic ${basic}`, 'api.github.com');
    assert.equal(sub.out.toString(), `Basic ${Buffer.from(`user:${GITHUB}`).toString('base64')}`);
    assert.deepEqual(sub.replaced, ['GITHUB_TOKEN']);
    assert.deepEqual(t.substituteHeader('authorization', `Basic ${basic}`, 'api.openai.com').foreign, ['GITHUB_TOKEN']);
  });

  test('turns a real value echoed in a response back into its surrogate', () => {
    const t = table();
    const scanner = t.responseScanner('api.openai.com');
    const text = `{"echo":"${OPENAI}"}`;
    const out = Buffer.concat([scanner.push(Buffer.from(text.slice(0, 15))), scanner.push(Buffer.from(text.slice(15))), scanner.end()]);
    assert.equal(out.toString(), `{"echo":"${t.surrogates().OPENAI_API_KEY}"}`);
  });
});

describe('streaming substitution', () => {
  test('replaces a surrogate split across chunks, holding back less than one surrogate', async () => {
    const t = table();
    const s = t.surrogates().OPENAI_API_KEY!;
    const text = `{"a":"${s}","b":"${s}"}`;
    const stream = t.substituteStream('api.openai.com');
    const scanner = t.scanner('api.openai.com');
    const pieces: Buffer[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(Buffer.from(text.slice(i, i + 7)));
    let emitted = 0;
    for (const [i, p] of pieces.entries()) {
      emitted += scanner.push(p).length;
      const fed = pieces.slice(0, i + 1).reduce((n, b) => n + b.length, 0);
      assert.ok(fed - emitted <= scanner.maxPending, `held ${fed - emitted} > ${scanner.maxPending}`);
    }
    const out = await buffer(Readable.from(pieces).pipe(stream));
    assert.equal(out.toString(), `{"a":"${OPENAI}","b":"${OPENAI}"}`);
    assert.deepEqual(stream.replaced, ['OPENAI_API_KEY']);
  });

  test('fails before passing on a surrogate bound to another host', async () => {
    const t = table();
    const stream = t.substituteStream('api.openai.com');
    const seen: Buffer[] = [];
    stream.on('data', (d: Buffer) => seen.push(d));
    const done = new Promise((resolve) => stream.on('error', resolve));
    stream.write('harmless prefix ');
    stream.end(`then ${t.surrogates().GITHUB_TOKEN}`);
    const err = await done;
    assert.ok(isArmorerError(err) && err.code === 'ARMORER_E_SURROGATE_HOST');
    assert.ok(!Buffer.concat(seen).toString().includes(t.surrogates().GITHUB_TOKEN!));
    assert.deepEqual(stream.foreign, ['GITHUB_TOKEN']);
  });
});

describe('EnvSecretSource', () => {
  test('reads ARMORER_SECRET_<NAME> and lists the names that are set', async () => {
    const src = new EnvSecretSource({ ARMORER_SECRET_OPENAI_API_KEY: OPENAI, ARMORER_SECRET_EMPTY: '', HOME: '/root' });
    assert.equal(await src.get('OPENAI_API_KEY'), OPENAI);
    assert.equal(await src.get('EMPTY'), undefined);
    assert.equal(await src.get('HOME'), undefined);
    assert.deepEqual(await src.names(), ['OPENAI_API_KEY']);
    await assert.rejects(src.get('not a name'), (e) => isArmorerError(e) && e.code === 'ARMORER_E_SECRET');
  });
});
