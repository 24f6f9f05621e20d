/**
 * Finds the catalog's trigger phrases in an intent's tokens, left to right, longest first, and marks
 * the ones a negation ("without", "never", "don't", ...) covers. Deterministic: ties are broken by
 * the number of typo-corrected words and then by the catalog's order.
 */
import type { Catalog, CompiledTrigger, TriggerWord } from './types.js';
import { CLAUSE_WORDS, NEGATIONS, STOP_WORDS, tokenise, withinOneEdit, type Token } from './words.js';

export interface Match {
  capability: string;
  /** Token indices, inclusive; stop words skipped inside the phrase belong to it. */
  first: number;
  last: number;
  /** Typos this match read as trigger words. */
  corrections: { typed: string; readAs: string }[];
  /** Index of the negation word covering this match, if any. */
  negatedBy?: number;
  /** Chosen by an assistant rather than by a trigger. */
  assisted?: boolean;
}

/** Stop words skipped inside one gap of a multi-word trigger ("run the commands", "post it to"). */
const MAX_SKIP = 2;
/** A trigger word this long or longer tolerates one typo. */
const TYPO_MIN_TRIGGER = 5;
/** A typed word shorter than this is never read as a typo. */
const TYPO_MIN_TYPED = 4;

export function findMatches(tokens: Token[], catalog: Catalog): Match[] {
  const matches: Match[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    let best: { trigger: CompiledTrigger; last: number; corrections: Match['corrections'] } | undefined;
    if (t.kind === 'word' || t.kind === 'host') {
      for (const trigger of catalog.triggers) {
        const m = matchAt(tokens, i, trigger, catalog);
        if (!m) continue;
        if (!best || better(trigger, m.corrections.length, best.trigger, best.corrections.length)) {
          best = { trigger, ...m };
        }
      }
    }
    if (best) {
      matches.push({ capability: best.trigger.capability, first: i, last: best.last, corrections: best.corrections });
      i = best.last + 1;
    } else {
      i++;
    }
  }
  return matches;
}

/** Longer triggers win, then fewer typos, then the catalog's order. */
function better(a: CompiledTrigger, aTypos: number, b: CompiledTrigger, bTypos: number): boolean {
  if (a.words.length !== b.words.length) return a.words.length > b.words.length;
  if (aTypos !== bTypos) return aTypos < bTypos;
  return a.order < b.order;
}

function matchAt(tokens: Token[], start: number, trigger: CompiledTrigger, catalog: Catalog):
  { last: number; corrections: Match['corrections'] } | undefined {
  let j = start;
  const corrections: Match['corrections'] = [];
  for (const [k, w] of trigger.words.entries()) {
    let skipped = 0;
    for (;;) {
      const t = tokens[j];
      if (!t || t.kind === 'punct' || t.kind === 'path') return undefined;
      const how = wordMatch(t, w, catalog);
      if (how) {
        if (how === 'typo') corrections.push({ typed: t.text, readAs: w.lower });
        j++;
        break;
      }
      if (k > 0 && skipped < MAX_SKIP && t.kind === 'word' && STOP_WORDS.has(t.lower) && !CLAUSE_WORDS.has(t.lower)) {
        skipped++;
        j++;
        continue;
      }
      return undefined;
    }
  }
  return { last: j - 1, corrections };
}

function wordMatch(t: Token, w: TriggerWord, catalog: Catalog): 'exact' | 'typo' | undefined {
  if (t.kind !== 'word') return t.lower === w.lower ? 'exact' : undefined;
  if (w.stop || w.literal) return t.lower === w.lower ? 'exact' : undefined;
  if (w.prefix) return t.lower.startsWith(w.lower) ? 'exact' : undefined;
  if (t.stem === w.stem) return 'exact';
  if (w.lower.length >= TYPO_MIN_TRIGGER && mayBeTypo(t, catalog)
    && (withinOneEdit(t.lower, w.lower)
      || (w.stem.length >= TYPO_MIN_TRIGGER && t.stem.length >= TYPO_MIN_TRIGGER && withinOneEdit(t.stem, w.stem)))) return 'typo';
  return undefined;
}

/**
 * The trigger word a single typed word would be read as a typo of, ignoring the notTypos list:
 * the tool that keeps that list (src/intent/dev/not-typos.ts) and the tests use it.
 */
export function typoReading(word: string, catalog: Catalog): string | undefined {
  const t = tokenise(word)[0];
  if (!t || t.kind !== 'word') return undefined;
  const open = { ...catalog, notTypos: new Set<string>() };
  for (const trigger of catalog.triggers) {
    for (const w of trigger.words) {
      if (wordMatch(t, w, catalog) === 'exact') return undefined;
    }
  }
  for (const trigger of catalog.triggers) {
    for (const w of trigger.words) if (wordMatch(t, w, open) === 'typo') return w.lower;
  }
  return undefined;
}

/** Grammar, verbs and listed real words are never read as someone's typo. */
function mayBeTypo(t: Token, catalog: Catalog): boolean {
  return t.lower.length >= TYPO_MIN_TYPED && /^\p{L}+$/u.test(t.lower) && !STOP_WORDS.has(t.lower)
    && !NEGATIONS.has(t.lower) && !catalog.actions.has(t.lower) && !catalog.notTypos.has(t.lower);
}

/**
 * Marks matches (and path tokens) that a negation word covers: from the negation to the end of its
 * clause (punctuation, "and", "but", "then"). Returns, for each negated path token, its negation.
 */
export function applyNegations(tokens: Token[], matches: Match[]): Map<number, number> {
  const negatedPaths = new Map<number, number>();
  for (const [n, t] of tokens.entries()) {
    if (t.kind !== 'word' || !NEGATIONS.has(t.lower)) continue;
    for (let j = n + 1; j < tokens.length && tokens[j]!.clause === t.clause; j++) {
      if (tokens[j]!.kind === 'path' && !negatedPaths.has(j)) negatedPaths.set(j, n);
    }
    for (const m of matches) {
      if (m.first > n && m.negatedBy === undefined && tokens[m.first]!.clause === t.clause) m.negatedBy = n;
    }
  }
  return negatedPaths;
}
