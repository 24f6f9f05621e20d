/**
 * Finding many literal strings at once, fast enough to sit on every output path.
 *
 * `SampledIndex` finds every complete occurrence. It reads one 4-character window every S
 * characters instead of every character: any occurrence of a literal of length >= m covers at
 * least one sampled window that starts within its first S = m - 3 characters, so indexing each
 * literal's windows at offsets 0..S-1 finds it, and `startsWith` confirms the candidate. With
 * secrets of 20 characters or more the scan touches about a quarter of the text. Literals are kept
 * in two tiers (under 8 characters, the rest) so that one short secret does not slow the scan for
 * all the others.
 *
 * `PrefixTrie` answers the streaming question: which suffix of the text could still become a
 * literal once more text arrives? That part is held back; everything before it can be written.
 */

const Q = 4;
const BITMAP_BITS = 20;
/** Literals shorter than this get their own tier (a smaller step) so the rest keep a large one. */
const LONG = 8;

interface Tier {
  step: number;
  bitmap: Uint32Array;
  /** Exact window key -> flat [literal, offset, literal, offset, ...]. */
  buckets: Map<number, number[]>;
}

function windowKey(s: string, i: number): number {
  // Characters above 0xff overlap bits here: such keys only collide more, and startsWith decides.
  return ((s.charCodeAt(i) << 24) ^ (s.charCodeAt(i + 1) << 16) ^ (s.charCodeAt(i + 2) << 8) ^ s.charCodeAt(i + 3)) | 0;
}

function windowHash(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - BITMAP_BITS);
}

function buildTier(literals: readonly string[], ids: number[]): Tier | null {
  if (ids.length === 0) return null;
  const minLen = Math.min(...ids.map((id) => literals[id]!.length));
  const step = Math.max(1, minLen - Q + 1);
  const bitmap = new Uint32Array(1 << (BITMAP_BITS - 5));
  const buckets = new Map<number, number[]>();
  for (const id of ids) {
    const lit = literals[id]!;
    for (let off = 0; off < step; off++) {
      const key = windowKey(lit, off);
      const h = windowHash(key);
      bitmap[h >>> 5]! |= 1 << (h & 31);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = []));
      b.push(id, off);
    }
  }
  return { step, bitmap, buckets };
}

export class SampledIndex {
  private readonly tiers: Tier[];

  /** `literals` must each be at least 4 characters long. */
  constructor(private readonly literals: readonly string[]) {
    const ids = literals.map((_, i) => i);
    this.tiers = [
      buildTier(literals, ids.filter((i) => literals[i]!.length < LONG)),
      buildTier(literals, ids.filter((i) => literals[i]!.length >= LONG)),
    ].filter((t): t is Tier => t !== null);
  }

  /** Calls `found(start, literal)` once for every occurrence wholly inside `text`. */
  findAll(text: string, found: (start: number, literal: number) => void): void {
    const n = text.length;
    const lits = this.literals;
    for (const { step, bitmap, buckets } of this.tiers) {
      for (let p = 0; p + Q <= n; p += step) {
        const key = windowKey(text, p);
        const h = windowHash(key);
        if ((bitmap[h >>> 5]! & (1 << (h & 31))) === 0) continue;
        const b = buckets.get(key);
        if (!b) continue;
        for (let k = 0; k < b.length; k += 2) {
          const id = b[k]!;
          const start = p - b[k + 1]!;
          const lit = lits[id]!;
          if (start >= 0 && start + lit.length <= n && text.startsWith(lit, start)) found(start, id);
        }
      }
    }
  }
}

/** A character trie over every literal (secret forms and pattern triggers), in flat arrays. */
export class PrefixTrie {
  private chars: number[] = [0];
  private first: number[] = [-1];
  private next: number[] = [-1];
  /** Children of the root by character code (a dense table: every start position looks here). */
  private readonly rootChildren = new Int32Array(65536).fill(-1);
  /** Length of the longest literal: no suffix longer than this minus one needs checking. */
  readonly longest: number;

  constructor(literals: Iterable<string>) {
    let longest = 0;
    for (const lit of literals) {
      longest = Math.max(longest, lit.length);
      this.insert(lit);
    }
    this.longest = longest;
  }

  private child(node: number, c: number): number {
    if (node === 0) return this.rootChildren[c]!;
    for (let k = this.first[node]!; k >= 0; k = this.next[k]!) if (this.chars[k] === c) return k;
    return -1;
  }

  private insert(lit: string): void {
    let node = 0;
    for (let i = 0; i < lit.length; i++) {
      const c = lit.charCodeAt(i);
      let k = this.child(node, c);
      if (k < 0) {
        k = this.chars.length;
        this.chars.push(c);
        this.first.push(-1);
        this.next.push(node === 0 ? -1 : this.first[node]!);
        if (node === 0) this.rootChildren[c] = k;
        else this.first[node] = k;
      }
      node = k;
    }
  }

  /**
   * Start of the longest suffix of `text` that is a proper prefix of some literal (a literal
   * could still complete there), or `text.length` when there is none.
   */
  partialStart(text: string): number {
    const n = text.length;
    for (let i = Math.max(0, n - this.longest + 1); i < n; i++) {
      let node = this.child(0, text.charCodeAt(i));
      for (let j = i + 1; node >= 0 && j < n; j++) node = this.child(node, text.charCodeAt(j));
      if (node >= 0 && this.first[node]! >= 0) return i;
    }
    return n;
  }
}
