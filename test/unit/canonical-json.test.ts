import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson, CanonicalJsonError, jsonString } from '../../src/core/canonical-json.js';

/** An IEEE 754 double from its 64-bit pattern, as RFC 8785 Appendix B lists them. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonical JSON (RFC 8785)', () => {
  test('reproduces the RFC 8785 section 3.2.4 example byte for byte', () => {
    const input = '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
      '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
      '"literals": [null, true, false]}';
    assert.equal(canonicalJson(JSON.parse(input)),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  test('sorts keys by UTF-16 code units, as in RFC 8785 section 3.2.3', () => {
    const value = {
      '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalJson(value)) as object);
    // Object.keys puts integer-like keys first; compare the text order instead.
    const text = canonicalJson(value);
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(JSON.stringify(k)));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.equal(keys.length, 7);
    // The emoji (surrogate pair d83d) sorts before U+FB33 by code units, though after it by code points.
    assert.ok(text.indexOf('😀') < text.indexOf('\ufb33'));
  });

  test('serialises numbers as RFC 8785 Appendix B lists them', () => {
    const cases: Array<[string, string]> = [
      ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'], ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'], ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'], ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'], ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'], ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of cases) assert.equal(canonicalJson(fromBits(bits)), text, bits);
  });

  test('refuses NaN and the infinities (RFC 8785 Appendix B: "error")', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      assert.throws(() => canonicalJson({ n: fromBits(bits) }), CanonicalJsonError);
    }
  });

  test('refuses what JSON would silently drop or convert, naming where it is', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const refused: Array<[unknown, RegExp]> = [
      [{ a: undefined }, /\$\.a: a undefined has no JSON form/],
      [{ f: () => 1 }, /\$\.f: a function/],
      [{ s: Symbol('x') }, /a symbol/],
      [{ b: 10n }, /a bigint/],
      [{ d: new Date(0) }, /\$\.d: a Date is not a plain JSON object/],
      [{ m: new Map() }, /a Map/],
      [[1, undefined], /\$\[1\]/],
      // eslint-disable-next-line no-sparse-arrays
      [[1, , 3], /a hole/],
      [cycle, /\$\.self: .*cycle/],
      [{ s: 'a\ud800b' }, /lone UTF-16 surrogate/],
      [{ ['\udc00']: 1 }, /lone UTF-16 surrogate/],
      [{ [Symbol('k')]: 1 }, /symbol keys/],
    ];
    for (const [value, message] of refused) assert.throws(() => canonicalJson(value), message);
  });

  test('accepts a value shared twice (a DAG is not a cycle) and deep but bounded nesting', () => {
    const shared = { x: 1 };
    assert.equal(canonicalJson({ b: shared, a: shared }), '{"a":{"x":1},"b":{"x":1}}');
    let deep: unknown = 0;
    for (let i = 0; i < 64; i++) deep = [deep]; // 64 containers: the limit
    assert.doesNotThrow(() => canonicalJson(deep));
    assert.throws(() => canonicalJson([deep]), /deeper than 64/);
  });

  test('keeps astral characters and paired surrogates literal, and objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['z'] = '😀';
    o['a'] = '\u2028';
    assert.equal(canonicalJson(o), '{"a":"\u2028","z":"😀"}');
  });

  test('round-trips: what it emits parses back to a value with the same canonical form', () => {
    const v = { when: '2025-01-01T00:00:00.000Z', n: [0.1, -0, 1e21, 5e-7], nested: { b: [true, null], a: 'é\n' } };
    const text = canonicalJson(v);
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });

  test('quotes every code point, lone surrogates included, exactly as JSON.stringify (its fast path skips it)', () => {
    const differ: number[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      const s = `a${String.fromCodePoint(c)}b`;
      if (jsonString(s) !== JSON.stringify(s)) differ.push(c);
    }
    for (let c = 0xd800; c <= 0xdfff; c++) {
      const s = `a${String.fromCharCode(c)}`;
      if (jsonString(s) !== JSON.stringify(s)) differ.push(c);
    }
    assert.deepEqual(differ, []);
  });

  test('equals JSON.stringify of the same value with its keys sorted, for values JSON represents exactly', () => {
    const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v);
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return [null, true, false, rnd() * 1e6 - 5e5, Math.floor(rnd() * 1e15), String.fromCharCode(...Array.from({ length: 6 }, () => Math.floor(rnd() * 0x3000)))][Math.floor(rnd() * 6)];
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [`k${Math.floor(rnd() * 100)}\u00e9`, gen(depth + 1)]));
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      const text = JSON.stringify(v);
      if (text !== undefined && !/\\ud[89ab]/.test(text) && !/\\ud[c-f]/.test(text)) assert.equal(canonicalJson(v), JSON.stringify(sortKeys(v)));
    }
  });
});
