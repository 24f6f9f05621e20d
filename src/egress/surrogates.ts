/**
 * Surrogate secrets: the sandbox holds a random stand-in of the same shape as each bound secret,
 * and the broker swaps it for the real value only on traffic to the host the secret is bound to
 * (`secrets.access:NAME@host`). A surrogate seen on its way to any other host is "foreign": the
 * caller blocks the request and raises an alert (rule `broker.surrogate-wrong-host`).
 */
import { randomInt } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ArmorerError } from '../core/errors.js';

export interface SecretBinding { name: string; host: string; value: string }
export interface Substitution {
  out: Buffer;
  /** Names whose surrogate was replaced by the real value. */
  replaced: string[];
  /** Names whose surrogate appeared but which are bound to other hosts; left unreplaced. */
  foreign: string[];
}

/** Prefixes that clients check; kept as-is, longest first so `sk-ant-` wins over `sk-`. */
const KNOWN_PREFIXES = [
  'sk-ant-api03-', 'sk-ant-admin01-', 'sk-ant-', 'sk-proj-', 'sk-svcacct-', 'sk-', 'github_pat_',
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'xoxb-', 'xoxp-', 'xoxa-', 'xoxe-', 'xapp-', 'glpat-',
  'hf_', 'AIza', 'sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'npm_', 'pypi-',
].sort((a, b) => b.length - a.length);
/** Fewer random characters than this would make a surrogate guessable or collide with traffic. */
const MIN_RANDOM_CHARS = 8;
const MAX_ATTEMPTS = 16;
export const SURROGATE_RULE = 'broker.surrogate-wrong-host';

/**
 * Where the text sits, which decides how the real value is written in place of a plain surrogate:
 * as-is (headers, plain bodies), percent-encoded (URLs, form bodies) or JSON-string-escaped.
 * A surrogate the client percent-encoded itself is always replaced by the percent-encoded value.
 */
export type SubstitutionContext = 'raw' | 'url' | 'json';

function encodeFor(context: SubstitutionContext, value: string): string {
  if (context === 'url') return encodeURIComponent(value);
  if (context === 'json') return JSON.stringify(value).slice(1, -1);
  return value;
}

/**
 * A surrogate for `value`: known prefix kept; after it, every letter or digit replaced at random
 * from the rest's own alphanumeric alphabet, and punctuation (`-`, `_`, `+`, `/`, `=`) kept where
 * it stands. Same length, same separators, same encoding behaviour as the real value.
 */
export function makeSurrogate(value: string): string {
  const prefix = KNOWN_PREFIXES.find((p) => value.startsWith(p)) ?? '';
  const rest = value.slice(prefix.length);
  const alnum = rest.replace(/[^A-Za-z0-9]/g, '');
  if (alnum.length < MIN_RANDOM_CHARS) {
    throw new ArmorerError('ARMORER_E_SECRET',
      `a secret of ${value.length} characters is too short to substitute safely`,
      `use a secret with at least ${MIN_RANDOM_CHARS} letters or digits after its prefix`);
  }
  const alphabet = alphabetOf(alnum);
  let out = prefix;
  for (const c of rest) out += /[A-Za-z0-9]/.test(c) ? alphabet[randomInt(alphabet.length)] : c;
  return out;
}

function alphabetOf(text: string): string {
  if (/^[0-9a-f]+$/.test(text) && /[a-f]/.test(text)) return '0123456789abcdef';
  if (/^[0-9A-F]+$/.test(text) && /[A-F]/.test(text)) return '0123456789ABCDEF';
  let a = '';
  if (/[A-Z]/.test(text)) a += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  if (/[a-z]/.test(text)) a += 'abcdefghijklmnopqrstuvwxyz';
  if (/[0-9]/.test(text)) a += '0123456789';
  for (const c of new Set(text.replace(/[A-Za-z0-9]/g, ''))) a += c;
  return a;
}

/** The encodings a value travels in besides itself: percent-encoded, upper and lower hex. */
function forms(value: string): [raw: string, upper: string, lower: string] {
  const upper = encodeURIComponent(value);
  return [value, upper, upper.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())];
}

interface Pattern { from: Buffer; to: Buffer; name: string; bound: boolean }

/** Exact multi-pattern matching over bytes; no pattern contains another (checked at creation). */
class Matcher {
  readonly maxLength: number;
  private readonly byFirst: (Pattern[] | undefined)[] = new Array(256);

  constructor(patterns: Pattern[]) {
    const sorted = [...patterns].sort((a, b) => b.from.length - a.from.length);
    for (const p of sorted) (this.byFirst[p.from[0]!] ??= []).push(p);
    this.maxLength = Math.max(1, ...patterns.map((p) => p.from.length));
  }

  /** Replaces matches in `buf`; unless `final`, a possible match cut off at the end is kept back. */
  scan(buf: Buffer, final: boolean, seen: { replaced: Set<string>; foreign: Set<string> }): { out: Buffer; rest: Buffer } {
    const parts: Buffer[] = [];
    let copied = 0;
    let i = 0;
    scanning: while (i < buf.length) {
      const candidates = this.byFirst[buf[i]!];
      if (candidates === undefined) { i++; continue; }
      for (const p of candidates) {
        const n = p.from.length;
        if (i + n <= buf.length) {
          if (buf.compare(p.from, 0, n, i, i + n) !== 0) continue;
          if (!p.bound) { seen.foreign.add(p.name); break; }
          parts.push(buf.subarray(copied, i), p.to);
          seen.replaced.add(p.name);
          i += n;
          copied = i;
          continue scanning;
        }
        if (!final && buf.compare(p.from, 0, buf.length - i, i, buf.length) === 0) break scanning;
      }
      i++;
    }
    parts.push(buf.subarray(copied, i));
    return { out: parts.length === 1 ? parts[0]! : Buffer.concat(parts), rest: buf.subarray(i) };
  }
}

/** Incremental substitution: at most maxLength-1 bytes are held back between pushes. */
export class SurrogateScanner {
  readonly replaced = new Set<string>();
  readonly foreign = new Set<string>();
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly matcher: Matcher) {}

  get maxPending(): number { return this.matcher.maxLength - 1; }

  push(chunk: Buffer): Buffer {
    const input = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const { out, rest } = this.matcher.scan(input, false, this);
    this.pending = Buffer.from(rest);
    return out;
  }

  end(): Buffer {
    const { out } = this.matcher.scan(this.pending, true, this);
    this.pending = Buffer.alloc(0);
    return out;
  }
}

export class SurrogateTable {
  private readonly cache = new Map<string, Matcher>();

  private constructor(
    private readonly bySurrogate: ReadonlyMap<string, { name: string; value: string; hosts: Set<string> }>,
  ) {}

  /** One surrogate per secret name; a name may be bound to several hosts, with one value. */
  static create(bindings: SecretBinding[]): SurrogateTable {
    const byName = new Map<string, { value: string; hosts: Set<string> }>();
    for (const b of bindings) {
      if (b.value === '') {
        throw new ArmorerError('ARMORER_E_SECRET', `the secret ${b.name} is empty`, `set a value for ${b.name}`);
      }
      // A line break in a value written into a header would split the request.
      if (/[\0-\x1f\x7f]/.test(b.value)) {
        throw new ArmorerError('ARMORER_E_SECRET', `the secret ${b.name} contains control characters`,
          `set ${b.name} without line breaks or other control characters`);
      }
      const entry = byName.get(b.name);
      if (entry && entry.value !== b.value) {
        throw new ArmorerError('ARMORER_E_SECRET', `the secret ${b.name} has two different values`,
          'a bug: a secret name must have one value; report it');
      }
      if (entry) entry.hosts.add(b.host.toLowerCase());
      else byName.set(b.name, { value: b.value, hosts: new Set([b.host.toLowerCase()]) });
    }
    const reals = [...byName.values()].map((e) => e.value);
    const taken: string[] = [];
    const bySurrogate = new Map<string, { name: string; value: string; hosts: Set<string> }>();
    for (const [name, { value, hosts }] of byName) {
      const surrogate = freshSurrogate(name, value, reals, taken);
      taken.push(...new Set(forms(surrogate)));
      bySurrogate.set(surrogate, { name, value, hosts });
    }
    return new SurrogateTable(bySurrogate);
  }

  /** NAME -> surrogate: what the sandbox's environment gets instead of the real values. */
  surrogates(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [surrogate, { name }] of this.bySurrogate) out[name] = surrogate;
    return out;
  }

  /**
   * Surrogate -> real value for secrets bound to `host`; other hosts' surrogates are reported.
   * A string is taken as UTF-8; pass a Buffer to keep other bytes exactly as they are.
   */
  substitute(text: string | Buffer, host: string, context: SubstitutionContext = 'raw'): Substitution {
    const seen = { replaced: new Set<string>(), foreign: new Set<string>() };
    const { out } = this.requestMatcher(host, context).scan(Buffer.isBuffer(text) ? text : Buffer.from(text), true, seen);
    return { out, replaced: [...seen.replaced], foreign: [...seen.foreign] };
  }

  /**
   * As `substitute`, for one header: also decodes `Basic` credentials (base64 of `user:pass`),
   * where the surrogate is not visible as text.
   */
  substituteHeader(name: string, value: string | Buffer, host: string): Substitution {
    const first = this.substitute(value, host);
    const basic = /^(basic[ \t]+)([A-Za-z0-9+/]+={0,2})([ \t]*)$/i.exec(first.out.toString('latin1'));
    const lower = name.toLowerCase();
    if (!basic || (lower !== 'authorization' && lower !== 'proxy-authorization')) return first;
    const decoded = Buffer.from(basic[2]!, 'base64');
    const inner = this.substitute(decoded, host);
    if (inner.replaced.length === 0 && inner.foreign.length === 0) return first;
    const out = Buffer.from(`${basic[1]}${inner.out.toString('base64')}${basic[3]}`, 'latin1');
    return {
      out,
      replaced: [...new Set([...first.replaced, ...inner.replaced])],
      foreign: [...new Set([...first.foreign, ...inner.foreign])],
    };
  }

  /** An incremental scanner for a request body to `host` (surrogate -> real). */
  scanner(host: string, context: SubstitutionContext = 'raw'): SurrogateScanner {
    return new SurrogateScanner(this.requestMatcher(host, context));
  }

  /** An incremental scanner for a response from `host`: a real value echoed back becomes its surrogate. */
  responseScanner(host: string): SurrogateScanner {
    return new SurrogateScanner(this.matcher(`<${host}`, () => {
      const seen = new Set<string>();
      const patterns: Pattern[] = [];
      for (const [surrogate, { name, value, hosts }] of this.bySurrogate) {
        if (!hosts.has(host.toLowerCase()) || seen.has(value)) continue;
        seen.add(value);
        patterns.push({ from: Buffer.from(value), to: Buffer.from(surrogate), name, bound: true });
      }
      return patterns;
    }));
  }

  /** A Transform substituting surrogates for `host`; it fails, before passing them, on foreign ones. */
  substituteStream(host: string, context: SubstitutionContext = 'raw'): SubstituteTransform {
    return new SubstituteTransform(this.scanner(host, context));
  }

  private requestMatcher(host: string, context: SubstitutionContext): Matcher {
    return this.matcher(`>${context}>${host}`, () => {
      const patterns: Pattern[] = [];
      for (const [surrogate, { name, value, hosts }] of this.bySurrogate) {
        const bound = hosts.has(host.toLowerCase());
        const realForms = forms(value);
        realForms[0] = encodeFor(context, value);
        const seen = new Set<string>();
        forms(surrogate).forEach((f, k) => {
          if (!seen.has(f)) patterns.push({ from: Buffer.from(f), to: Buffer.from(realForms[k]!), name, bound });
          seen.add(f);
        });
      }
      return patterns;
    });
  }

  private matcher(key: string, build: () => Pattern[]): Matcher {
    let m = this.cache.get(key);
    if (!m) {
      m = new Matcher(build());
      this.cache.set(key, m);
    }
    return m;
  }
}

/** Surrogate forms must not contain, or be contained in, any real value or other surrogate form. */
function freshSurrogate(name: string, value: string, reals: string[], taken: string[]): string {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const candidate = makeSurrogate(value);
    const mine = [...new Set(forms(candidate))];
    const clash = mine.some((f) =>
      reals.some((r) => f.includes(r) || r.includes(f)) || taken.some((t) => f.includes(t) || t.includes(f)));
    if (!clash) return candidate;
  }
  throw new ArmorerError('ARMORER_E_SECRET', `cannot make a distinct surrogate for ${name}`,
    `use a longer, more random value for ${name}`);
}

export class SubstituteTransform extends Transform {
  constructor(private readonly scanner: SurrogateScanner) {
    super();
  }

  get replaced(): string[] { return [...this.scanner.replaced]; }
  get foreign(): string[] { return [...this.scanner.foreign]; }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = this.scanner.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    this.emitChecked(out, done);
  }

  override _flush(done: TransformCallback): void {
    this.emitChecked(this.scanner.end(), done);
  }

  private emitChecked(out: Buffer, done: TransformCallback): void {
    if (this.scanner.foreign.size > 0) {
      done(foreignError(this.foreign));
      return;
    }
    if (out.length > 0) this.push(out);
    done();
  }
}

export function foreignError(names: string[]): ArmorerError {
  return new ArmorerError('ARMORER_E_SURROGATE_HOST',
    `the surrogate of ${names.join(', ')} was sent to a host it is not bound to (${SURROGATE_RULE})`,
    'if intended, bind the secret to that host too: secrets.access:NAME@host');
}
