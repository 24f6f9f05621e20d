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

// What JSON.stringify escapes (quote, backslash, controls) or may (surrogates): a string with
// none of these is quoted as it is, which is most strings and much faster.
const SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;
/** No lone surrogate (String.prototype.isWellFormed, ES2024: in Node since 20; not yet in TypeScript's ES2022 lib). */
export const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Exactly JSON.stringify(s), faster for strings with nothing to escape. Does not refuse lone surrogates. */
export function jsonString(s: string): string {
  return SPECIAL.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** The canonical JSON text of `value`; throws CanonicalJsonError naming where the problem is. */
export function canonicalJson(value: unknown): string {
  return new Serialiser().value(value);
}

/** A JSON string token for `s` (JSON.stringify's escaping, which is RFC 8785's); refuses lone surrogates. */
export function canonicalString(s: string, path = '$'): string {
  if (!SPECIAL.test(s)) return `"${s}"`;
  if (!wellFormed(s)) throw new CanonicalJsonError(path, 'string contains a lone UTF-16 surrogate (not valid I-JSON)');
  return JSON.stringify(s);
}

/**
 * One serialisation. The containers being serialised (to find cycles) and the keys leading to the
 * current value are kept on stacks; the path text is only built for an error message, so the
 * common case costs little more than JSON.stringify (audit appends call this once per event).
 */
class Serialiser {
  private readonly containers: object[] = [];
  private readonly keys: Array<string | number> = [];

  value(v: unknown): string {
    switch (typeof v) {
      case 'string':
        return SPECIAL.test(v) ? canonicalString(v, this.path()) : `"${v}"`;
      case 'number':
        if (!Number.isFinite(v)) throw this.error(`${v} is not a JSON number`);
        // Number::toString, as JSON.stringify and RFC 8785 use it (-0 becomes "0").
        return String(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        return Array.isArray(v) ? this.array(v) : this.object(v);
      default:
        // undefined, function, symbol, bigint
        throw this.error(`a ${typeof v} has no JSON form`);
    }
  }

  private enter(v: object): void {
    if (this.containers.includes(v)) throw this.error('the value contains itself (a cycle)');
    if (this.containers.length >= MAX_DEPTH) throw this.error(`nested deeper than ${MAX_DEPTH} levels`);
    this.containers.push(v);
  }

  private array(a: unknown[]): string {
    this.enter(a);
    let out = '[';
    for (let i = 0; i < a.length; i++) {
      this.keys.push(i);
      if (!(i in a)) throw this.error('a hole in an array has no JSON form');
      out += (i ? ',' : '') + this.value(a[i]);
      this.keys.pop();
    }
    this.containers.pop();
    return `${out}]`;
  }

  private object(o: object): string {
    const proto: unknown = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) {
      const name = (o as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw this.error(`a ${name} is not a plain JSON object (convert it first, e.g. a Date to an ISO string)`);
    }
    if (Object.getOwnPropertySymbols(o).length > 0) throw this.error('symbol keys have no JSON form');
    this.enter(o);
    // Default sort order is by UTF-16 code units, which is what RFC 8785 asks for; objects built
    // in order (most) skip the sort.
    const keys = Object.keys(o);
    for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) { keys.sort(); break; }
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.keys.push(k);
      const name = SPECIAL.test(k) ? canonicalString(k, this.path()) : `"${k}"`;
      out += `${i ? ',' : ''}${name}:${this.value((o as Record<string, unknown>)[k])}`;
      this.keys.pop();
    }
    this.containers.pop();
    return `${out}}`;
  }

  private path(): string {
    return this.keys.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${k}`), '$');
  }

  private error(message: string): CanonicalJsonError {
    return new CanonicalJsonError(this.path(), message);
  }
}
