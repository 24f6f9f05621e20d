/**
 * One scan of the text the redactor has in hand (what it held back plus the new chunk): every
 * complete match as an interval, and where the text must be cut because a match may still be
 * forming there. The Redactor (stream.ts) turns that into output.
 */
import { ArmorerError } from '../../core/errors.js';
import { checkSecret, encodedForms } from './encodings.js';
import { PrefixTrie, SampledIndex } from './literals.js';
import { PATTERNS, type Pattern } from './patterns.js';

export interface RedactorOptions {
  /** Every secret the run could know; each value and its encodings are redacted as `[REDACTED:name]`. */
  secrets: { name: string; value: string }[];
  /** Provider token patterns (AWS, GitHub, ..., JWTs, URL passwords). Default true. */
  patterns?: boolean;
}

interface TriggerRef { text: string; off: number; pattern: Pattern }
interface Anchor {
  needle: string;
  /** Triggers checked at every hit (none of the current ones: kept for triggers too short to key). */
  exact: TriggerRef[];
  /** Triggers keyed by the two ASCII characters just before the needle; `hasBefore` flags the keys. */
  before: Map<number, TriggerRef[]>;
  hasBefore: Uint8Array;
  /** Triggers that start with the needle, keyed by the two ASCII characters just after it. */
  after: Map<number, TriggerRef[]>;
  hasAfter: Uint8Array;
  /** Patterns whose trigger precedes this anchor (found with `locate`). */
  located: Pattern[];
}

/** Two ASCII characters as one small key (-1 when either is not ASCII). */
const pairKey = (c1: number, c2: number): number => ((c1 | c2) < 128 ? (c1 << 7) | c2 : -1);

export interface Compiled {
  literals: string[];
  /** The secret name of each literal. */
  names: string[];
  index: SampledIndex;
  trie: PrefixTrie;
  anchors: Anchor[];
  located: Pattern[];
  /** The redactor never holds back more than this many characters. */
  maxHold: number;
}

export interface Interval {
  start: number;
  end: number;
  label: string;
  /** Continues the marker the previous output ended with: write no new marker. */
  continued: boolean;
  /** A match cut off at the end of the text: its pattern's `tail` goes on in the next text. */
  forced: Pattern | null;
}

/** What the previous scan leaves to the next one. */
export interface ScanState {
  /** The last character written out (for `notAfter`), or -1. */
  prev: number;
  /** The first `len` characters of the next text belong to a marker already written. */
  carry: { len: number; label: string } | null;
  /** A match was cut off at maxLen: its tail continues at the start of the next text. */
  cont: Pattern | null;
}

function anchorsOf(patterns: readonly Pattern[]): Anchor[] {
  const byNeedle = new Map<string, Anchor>();
  const add = (map: Map<number, TriggerRef[]>, flags: Uint8Array, key: number, ref: TriggerRef) => {
    map.set(key, [...(map.get(key) ?? []), ref]);
    flags[key] = 1;
  };
  for (const pattern of patterns) {
    let a = byNeedle.get(pattern.anchor);
    if (!a) {
      a = { needle: pattern.anchor, exact: [], located: [], before: new Map(), hasBefore: new Uint8Array(1 << 14),
        after: new Map(), hasAfter: new Uint8Array(1 << 14) };
      byNeedle.set(pattern.anchor, a);
    }
    if (pattern.locate) { a.located.push(pattern); continue; }
    for (const text of pattern.triggers) {
      const off = text.indexOf(pattern.anchor);
      if (off < 0) throw new Error(`pattern ${pattern.label}: anchor "${pattern.anchor}" is not in trigger "${text}"`);
      const ref = { text, off, pattern };
      const end = off + pattern.anchor.length;
      if (off >= 2) add(a.before, a.hasBefore, pairKey(text.charCodeAt(off - 2), text.charCodeAt(off - 1)), ref);
      else if (off === 0 && text.length - end >= 2) add(a.after, a.hasAfter, pairKey(text.charCodeAt(end), text.charCodeAt(end + 1)), ref);
      else a.exact.push(ref);
    }
  }
  return [...byNeedle.values()];
}

/** Every pattern as an object of one shape, so that the scanner's property reads stay monomorphic. */
function sameShape(p: Pattern): Pattern {
  return {
    label: p.label, triggers: p.triggers, anchor: p.anchor, locate: p.locate, re: p.re, group: p.group,
    partial: p.partial, maxLen: p.maxLen, notAfter: p.notAfter, delimited: p.delimited, openAfter: p.openAfter,
    closedBy: p.closedBy, tail: p.tail,
  };
}

export function compile(o: RedactorOptions): Compiled {
  if (!o || !Array.isArray(o.secrets)) {
    throw new ArmorerError('ARMORER_E_SECRET', 'the redactor was given no list of secrets',
      'pass { secrets: [{ name, value }, ...] } (an empty list redacts token patterns only)');
  }
  const nameOf = new Map<string, string>();
  for (const s of o.secrets) {
    if (typeof s?.name !== 'string' || typeof s.value !== 'string') {
      throw new ArmorerError('ARMORER_E_SECRET', 'a secret given to the redactor has no string name or value',
        'pass each secret as { name: string, value: string }');
    }
    checkSecret(s.name, s.value);
    // The first secret to claim a form names it.
    for (const form of encodedForms(s.value)) if (!nameOf.has(form)) nameOf.set(form, s.name);
  }
  const literals = [...nameOf.keys()];
  const patterns = o.patterns === false ? [] : PATTERNS.map(sameShape);
  const trie = new PrefixTrie([...literals, ...patterns.flatMap((p) => p.triggers)]);
  return {
    literals,
    names: literals.map((l) => nameOf.get(l)!),
    index: new SampledIndex(literals),
    trie,
    anchors: anchorsOf(patterns),
    located: patterns.filter((p) => p.locate),
    maxHold: Math.max(trie.longest, ...patterns.map((p) => p.maxLen)) + 1,
  };
}

/**
 * All matches in `text` and the hold point: the start of the earliest match that more text could
 * still complete or extend. With `final` nothing more is coming: nothing is held.
 */
export function scan(c: Compiled, text: string, st: ScanState, final: boolean): { intervals: Interval[]; hold: number } {
  const n = text.length;
  const out: Interval[] = [];
  let hold = n;

  let from = 0;
  if (st.carry) {
    from = Math.min(st.carry.len, n);
    out.push({ start: 0, end: from, label: st.carry.label, continued: true, forced: null });
  }
  if (st.cont) {
    const p = st.cont;
    const re = p.tail!;
    re.lastIndex = from;
    const m = re.exec(text);
    const e = m ? re.lastIndex : from;
    let open = !final && !(m && p.closedBy?.test(m[0]));
    if (open && e < n) {
      // What follows may still be key lines being written: the tail may go on; hold it.
      const after = p.openAfter;
      if (after) after.lastIndex = e;
      open = !!after && after.test(text);
      if (open) hold = Math.min(hold, e);
    }
    if (e > from) out.push({ start: from, end: e, label: p.label, continued: true, forced: open ? p : null });
    else if (open && out[0]) out[0].forced = p;
  }

  c.index.findAll(text, (start, id) => {
    out.push({ start, end: start + c.literals[id]!.length, label: c.names[id]!, continued: false, forced: null });
  });

  const evaluate = (t: number, p: Pattern): void => {
    if (p.notAfter) {
      const pc = t > 0 ? text.charCodeAt(t - 1) : st.prev;
      if (pc >= 0 && p.notAfter.test(String.fromCharCode(pc))) return;
    }
    p.re.lastIndex = t;
    const m = p.re.exec(text);
    if (!m) {
      if (!final && n - t < p.maxLen) {
        p.partial.lastIndex = t;
        if (p.partial.test(text)) hold = Math.min(hold, t);
      }
      return;
    }
    const e = p.re.lastIndex;
    let open = false;
    if (!final && !p.delimited && !p.closedBy?.test(m[0])) {
      if (e === n) open = true;
      else if (p.openAfter) {
        p.openAfter.lastIndex = e;
        open = p.openAfter.test(text);
      }
    }
    // Right-context still to come: hold the match back, as long as the bound allows.
    if (open && n - t < p.maxLen) {
      hold = Math.min(hold, t);
      return;
    }
    const span: [number, number] | undefined = p.group === undefined ? [t, e] : m.indices?.[p.group];
    if (!span) return;
    out.push({ start: span[0], end: span[1], label: p.label, continued: false, forced: open && e === n && p.tail ? p : null });
  };

  const check = (refs: TriggerRef[], p: number): void => {
    for (const r of refs) {
      const t = p - r.off;
      if (t >= 0 && text.startsWith(r.text, t)) evaluate(t, r.pattern);
    }
  };

  for (const a of c.anchors) {
    const len = a.needle.length;
    const { exact, before, hasBefore, after, hasAfter, located } = a;
    for (let p = text.indexOf(a.needle); p >= 0; p = text.indexOf(a.needle, p + 1)) {
      // Most hits (a "-" in a date, an "A" in a word) have no trigger beside them: stay cheap.
      if (exact.length > 0) check(exact, p);
      if (p >= 2) {
        const kb = pairKey(text.charCodeAt(p - 2), text.charCodeAt(p - 1));
        if (kb >= 0 && hasBefore[kb] === 1) check(before.get(kb)!, p);
      }
      if (p + len + 1 < n) {
        const ka = pairKey(text.charCodeAt(p + len), text.charCodeAt(p + len + 1));
        if (ka >= 0 && hasAfter[ka] === 1) check(after.get(ka)!, p);
      }
      for (let k = 0; k < located.length; k++) {
        const t = located[k]!.locate!(text, p);
        if (t >= 0) evaluate(t, located[k]!);
      }
    }
  }

  if (!final) {
    // A trigger whose anchor lies further on is only found by its anchor once complete; one that
    // may still be forming is looked for in the window the pattern can hold.
    for (const p of c.located) {
      for (const trig of p.triggers) {
        for (let t = text.indexOf(trig, Math.max(0, n - p.maxLen)); t >= 0; t = text.indexOf(trig, t + 1)) evaluate(t, p);
      }
    }
    hold = Math.min(hold, c.trie.partialStart(text));
  }
  return { intervals: out, hold };
}
