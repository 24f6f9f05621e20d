/**
 * The streaming redactor. Output is everything that cannot be the start of a match; only the
 * longest suffix where a match may still be forming is held back (a partial secret or trigger, or
 * a token whose end has not been seen yet), so memory stays bounded by that suffix and output is
 * never delayed by more than one pending match. A secret split across writes is still caught.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { compile, scan, type Compiled, type Interval, type RedactorOptions, type ScanState } from './scan.js';

export type { RedactorOptions } from './scan.js';

// Compiling builds indexes over every encoded form of every secret; it is reused for the same
// options object, which is therefore read once: changing its secrets later has no effect.
const compiledFor = new WeakMap<RedactorOptions, Compiled>();
function compiled(o: RedactorOptions): Compiled {
  let c = compiledFor.get(o);
  if (!c) compiledFor.set(o, (c = compile(o)));
  return c;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

export class Redactor {
  private readonly c: Compiled;
  private decoder = new StringDecoder('utf8');
  private bytesIn = false;
  private held = '';
  private state: ScanState = { prev: -1, carry: null, cont: null };
  private redactions = 0;

  constructor(o: RedactorOptions) {
    this.c = compiled(o);
  }

  /** Redactions written so far (one per `[REDACTED:...]` marker). */
  get count(): number {
    return this.redactions;
  }

  /** Characters held back now, waiting to see whether a match completes. */
  get pending(): number {
    return this.held.length;
  }

  /** The most characters this redactor ever holds back. */
  get maxHold(): number {
    return this.c.maxHold;
  }

  /** Redacts what can be decided now and returns it; holds back a possible partial match. */
  push(chunk: string | Buffer): string {
    let s: string;
    if (typeof chunk !== 'string') {
      s = this.decoder.write(chunk);
      this.bytesIn = true;
    } else if (this.bytesIn) {
      // A string after bytes: whatever partial character the bytes left is ended first, in order.
      s = this.decoder.end() + chunk;
      this.decoder = new StringDecoder('utf8');
      this.bytesIn = false;
    } else {
      s = chunk;
    }
    if (s.length === 0) return '';
    return this.run(this.withHeld(s), false);
  }

  /** Ends the stream: decides every held match and returns the rest. The redactor can be reused. */
  flush(): string {
    const rest = this.decoder.end();
    const out = this.run(this.withHeld(rest), true);
    this.decoder = new StringDecoder('utf8');
    this.bytesIn = false;
    this.state = { prev: -1, carry: null, cont: null };
    return out;
  }

  /**
   * The held text followed by `s`, as one flat string. `held + s` would make a cons string, which
   * V8 flattens (copies) on first indexed access far more slowly: a third of the redactor's time.
   */
  private withHeld(s: string): string {
    return this.held.length === 0 ? s : [this.held, s].join('');
  }

  private run(text: string, final: boolean): string {
    const { intervals, hold } = scan(this.c, text, this.state, final);
    let h = hold;
    // Never split a surrogate pair between what is written and what is held.
    if (h > 0 && h < text.length && isHighSurrogate(text.charCodeAt(h - 1))) h--;
    if (h === 0) {
      this.held = text; // nothing can be written yet; the state still describes text's start
      return '';
    }

    const parts: string[] = [];
    let pos = 0;
    let carry: ScanState['carry'] = null;
    let cont: ScanState['cont'] = null;
    for (const cl of clusters(intervals)) {
      if (cl.start >= h) break;
      parts.push(text.slice(pos, cl.start));
      if (!cl.continued) {
        parts.push(`[REDACTED:${cl.label}]`);
        this.redactions++;
      }
      if (cl.forced) cont = cl.forced;
      if (cl.end > h) {
        carry = { len: cl.end - h, label: cl.label };
        pos = h;
        break;
      }
      pos = cl.end;
    }
    if (pos < h) parts.push(text.slice(pos, h));
    this.state = { prev: text.charCodeAt(h - 1), carry, cont };
    this.held = text.slice(h);
    return parts.join('');
  }
}

/** Overlapping matches become one redaction (the union), labelled by the leftmost, longest one. */
function clusters(intervals: Interval[]): Interval[] {
  if (intervals.length === 0) return intervals;
  const sorted = intervals.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Interval[] = [];
  let cur = { ...sorted[0]! };
  for (let i = 1; i < sorted.length; i++) {
    const iv = sorted[i]!;
    // A continuation that touches the current cluster belongs to the same marker.
    if (iv.start < cur.end || (iv.continued && iv.start === cur.end)) {
      if (iv.end > cur.end) cur.end = iv.end;
      cur.continued ||= iv.continued && iv.start === 0;
      cur.forced = iv.forced ?? cur.forced;
    } else {
      out.push(cur);
      cur = { ...iv };
    }
  }
  out.push(cur);
  return out;
}

/** Redacts a whole string: audit fields, log lines. Reuse the same options object to reuse the index. */
export function redactString(text: string, o: RedactorOptions): string {
  const r = new Redactor(o);
  return r.push(text) + r.flush();
}

/**
 * A Transform, bytes in and bytes out: output is UTF-8 and never splits a multi-byte character
 * (input that is not valid UTF-8 comes out with U+FFFD in place of the bad bytes).
 */
export function createRedactStream(o: RedactorOptions): Transform & { readonly redactor: Redactor } {
  const redactor = new Redactor(o);
  const stream = new Transform({
    transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback) {
      const out = redactor.push(chunk);
      done(null, out.length > 0 ? Buffer.from(out, 'utf8') : undefined);
    },
    flush(done: TransformCallback) {
      const out = redactor.flush();
      done(null, out.length > 0 ? Buffer.from(out, 'utf8') : undefined);
    },
  });
  return Object.assign(stream, { redactor });
}
