/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence for a JSON value, so that a
 * hash or a signature over it means the same thing to every reader.
 *
 * - object keys sorted by UTF-16 code units (JavaScript's default string order), no whitespace;
 * - strings and numbers serialised exactly as ECMAScript's JSON.stringify does (RFC 8785 defines
 *   them that way: shortest round-trip numbers, `-0` as `0`, lowercase `\u00XX` escapes);
 * - input must be I-JSON (RFC 7493): no lone surrogates, no NaN or Infinity.
 *
 * Anything JSON cannot represent faithfully is refused instead of being dropped or converted the
 * way JSON.stringify would (undefined, functions, symbols, bigints, Dates, Maps, class instances,
 * cycles): a value that does not survive `JSON.parse(JSON.stringify(x))` unchanged must not be
 * hashed, or the verifier, which only sees the stored JSON, would compute another hash.
 */

export class CanonicalJsonError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'CanonicalJsonError';
  }
}

/** Deeper than this is refused rather than risking the stack (audit data is shallow). */
const MAX_DEPTH = 64;

// A UTF-16 surrogate, then the precise check only for strings that contain one.
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The canonical JSON text of `value`; throws CanonicalJsonError naming where the problem is. */
export function canonicalJson(value: unknown): string {
  return serialise(value, '$', []);
}

/** A JSON string token for `s` (JSON.stringify's escaping, which is RFC 8785's); refuses lone surrogates. */
export function canonicalString(s: string, path = '$'): string {
  if (SURROGATE.test(s) && LONE_SURROGATE.test(s)) {
    throw new CanonicalJsonError(path, 'string contains a lone UTF-16 surrogate (not valid I-JSON)');
  }
  return JSON.stringify(s);
}

function serialise(value: unknown, path: string, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return canonicalString(value, path);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return serialiseContainer(value, path, ancestors);
    default:
      // undefined, function, symbol, bigint
      throw new CanonicalJsonError(path, `a ${typeof value} has no JSON form`);
  }
}

function serialiseContainer(value: object, path: string, ancestors: object[]): string {
  if (ancestors.includes(value)) throw new CanonicalJsonError(path, 'the value contains itself (a cycle)');
  if (ancestors.length >= MAX_DEPTH) throw new CanonicalJsonError(path, `nested deeper than ${MAX_DEPTH} levels`);
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      const parts: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) throw new CanonicalJsonError(`${path}[${i}]`, 'a hole in an array has no JSON form');
        parts.push(serialise(value[i], `${path}[${i}]`, ancestors));
      }
      return `[${parts.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `a ${name} is not a plain JSON object (convert it first, e.g. a Date to an ISO string)`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalJsonError(path, 'symbol keys have no JSON form');
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const where = `${path}.${key}`;
      parts.push(`${canonicalString(key, where)}:${serialise((value as Record<string, unknown>)[key], where, ancestors)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.pop();
  }
}
