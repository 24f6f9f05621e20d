/**
 * The words of an intent: tokens with their positions in the text as typed, a small stemmer so that
 * "summarise", "summarizing" and "summaries" are one word, and the typo distance. Pure and
 * deterministic: nothing here depends on the machine, the locale or the time.
 */

export type TokenKind = 'word' | 'host' | 'path' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Exactly as typed (a slice of the original text). */
  text: string;
  /** Lowercase, with typographic apostrophes made plain. For a path: the path as typed. */
  lower: string;
  stem: string;
  start: number;
  end: number;
  /** Sentences end at . ! ? ; and line breaks; clauses also at , : ( ) and at "and", "but", "then". */
  sentence: number;
  clause: number;
}

/** The longest intent Armorer reads; longer text is refused rather than cut. */
export const MAX_INTENT_CHARS = 2000;

/** Never "not understood", never the start of a match; inside a multi-word trigger they may be skipped. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'and', 'or', 'nor', 'but', 'then', 'so', 'also', 'as', 'if', 'when', 'whenever',
  'while', 'to', 'of', 'for', 'from', 'in', 'into', 'on', 'onto', 'at', 'by', 'with', 'via', 'using',
  'through', 'about', 'over', 'up', 'out', 'off', 'me', 'my', 'mine', 'myself', 'i', "i'm", "i'd",
  'you', 'your', 'yours', 'we', 'our', 'us', 'it', "it's", 'its', 'they', 'them', 'their', 'he', 'she',
  'his', 'her', 'this', 'that', 'these', 'those', 'there', 'here', 'what', 'which', 'who', 'whom',
  'where', 'how', 'is', 'are', 'be', 'been', 'being', 'was', 'were', 'am', 'do', 'does', 'did', 'done',
  'have', 'has', 'had', 'will', "i'll", "you'll", 'would', 'could', 'should', 'can', 'may', 'might',
  'must', 'shall', 'please', 'agent', 'assistant', 'bot', 'every', 'each', 'all', 'any', 'some',
  'other', 'new', 'same', 'just', 'only', 'too', 'very', 'really', 'want', 'wants', 'need', 'needs',
  'like', 'help', 'let', "let's", 'lets', 'able', 'allowed', 'etc', 'e.g', 'eg', 'i.e', 'ie', 'ok',
  'okay', 'thanks', 'thank', 'something', 'anything', 'everything', 'stuff', 'things', 'thing',
]);

/** Words that start a negation; it runs to the end of the clause. */
export const NEGATIONS: ReadonlySet<string> = new Set([
  'without', 'never', 'no', 'not', "don't", 'dont', "doesn't", 'doesnt', "shouldn't", "mustn't",
  "can't", 'cannot', "won't", 'except', 'avoid',
]);

/** Conjunctions that end a clause (and so a negation), besides punctuation. */
export const CLAUSE_WORDS: ReadonlySet<string> = new Set(['and', 'but', 'then']);

const SENTENCE_PUNCT = new Set(['.', '!', '?', ';', '\n']);

const WORD_RE = /[\p{L}\p{N}]+(?:['.\-][\p{L}\p{N}]+)*|[.,;:!?()]/gu;
/** A host name: two or more labels, the last one letters only (so "gpt-4.1" is a word). */
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const TRAILING_PUNCT = /[.,;:!?)]+$/;
const QUOTED_PATH_RE = /"((?:~\/|\/)[^"\n]*)"/g;

/** Splits an intent into tokens; the caller has checked its length. */
export function tokenise(text: string): Token[] {
  const plain = text.replace(/\u2019/g, "'");
  const raw: Omit<Token, 'sentence' | 'clause'>[] = [];
  // Quoted paths may hold spaces; everything between them is split on whitespace.
  let from = 0;
  for (const m of plain.matchAll(QUOTED_PATH_RE)) {
    chunkTokens(plain, text, from, m.index, raw);
    const start = m.index + 1;
    const p = text.slice(start, start + m[1]!.length);
    raw.push({ kind: 'path', text: p, lower: p, stem: p, start, end: start + p.length });
    from = m.index + m[0].length;
  }
  chunkTokens(plain, text, from, plain.length, raw);
  let sentence = 0;
  let clause = 0;
  return raw.map((t) => {
    const tok: Token = { ...t, sentence, clause };
    if (t.kind === 'punct') {
      clause++;
      if (SENTENCE_PUNCT.has(t.lower)) sentence++;
    } else if (t.kind === 'word' && CLAUSE_WORDS.has(t.lower)) {
      clause++;
    }
    return tok;
  });
}

function chunkTokens(plain: string, text: string, from: number, to: number,
  out: Omit<Token, 'sentence' | 'clause'>[]): void {
  const re = /\S+|\n/g;
  re.lastIndex = from;
  for (let m = re.exec(plain); m && m.index < to; m = re.exec(plain)) {
    const chunkEnd = Math.min(m.index + m[0].length, to);
    const chunk = plain.slice(m.index, chunkEnd);
    if (chunk === '\n') {
      out.push({ kind: 'punct', text: '\n', lower: '\n', stem: '\n', start: m.index, end: m.index + 1 });
      continue;
    }
    const lead = /^[("'`]*/.exec(chunk)![0].length;
    const body = chunk.slice(lead);
    const isPath = /^(?:~\/|~$|\/)/.test(body.replace(TRAILING_PUNCT, ''));
    const url = isPath ? undefined : urlHost(body.replace(TRAILING_PUNCT, ''));
    if (isPath || url !== undefined) {
      // A path or URL runs to the end of the chunk, less trailing punctuation (which still ends a clause).
      wordTokens(plain, text, m.index, m.index + lead, out);
      const trail = TRAILING_PUNCT.exec(body)?.[0] ?? '';
      const start = m.index + lead;
      const end = chunkEnd - trail.length;
      const typed = text.slice(start, end);
      if (url !== undefined) out.push({ kind: 'host', text: typed, lower: url, stem: url, start, end });
      else out.push({ kind: 'path', text: typed, lower: typed, stem: typed, start, end });
      wordTokens(plain, text, end, chunkEnd, out);
      continue;
    }
    wordTokens(plain, text, m.index, chunkEnd, out);
    if (chunkEnd === to) break;
  }
}

/** The host of an http(s) URL, if the text is one whose host is a name (not an address). */
function urlHost(body: string): string | undefined {
  if (!/^https?:\/\//i.test(body)) return undefined;
  try {
    const host = new URL(body).hostname;
    return HOST_RE.test(host) ? host : undefined;
  } catch {
    return undefined;
  }
}

function wordTokens(plain: string, text: string, from: number, to: number,
  out: Omit<Token, 'sentence' | 'clause'>[]): void {
  const slice = plain.slice(from, to);
  for (const m of slice.matchAll(WORD_RE)) {
    const start = from + m.index;
    const end = start + m[0].length;
    const lower = m[0].toLowerCase();
    if (/^[.,;:!?()]$/.test(lower)) {
      out.push({ kind: 'punct', text: text.slice(start, end), lower, stem: lower, start, end });
    } else if (HOST_RE.test(lower) && !STOP_WORDS.has(lower)) {
      out.push({ kind: 'host', text: text.slice(start, end), lower, stem: lower, start, end });
    } else {
      out.push({ kind: 'word', text: text.slice(start, end), lower, stem: stem(lower), start, end });
    }
  }
}

/** Words the suffix rules would get wrong. */
const IRREGULAR: Record<string, string> = { news: 'news', data: 'data', media: 'media', series: 'series' };

/**
 * A small suffix stemmer: possessives; plurals (-s, -es, -ies); -ing and -ed (undoubling, or
 * restoring a final e: "saving" -> "save"); British/American -our/-or; then -ise/-ize/-is/-iz, a
 * final -y and a final -e are dropped so that summarise, summarize, summary and summaries meet.
 * Applied to the last part of a hyphenated word only. Both triggers and text go through it.
 */
export function stem(word: string): string {
  const lower = word.toLowerCase().replace(/\u2019/g, "'");
  const dash = lower.lastIndexOf('-');
  if (dash > 0) return lower.slice(0, dash + 1) + stemPart(lower.slice(dash + 1));
  return stemPart(lower);
}

function stemPart(input: string): string {
  let w = input.replace(/'s$/, '').replace(/'$/, '');
  const irregular = IRREGULAR[w];
  if (irregular) return irregular;
  if (w.length <= 3 || !/^\p{L}+$/u.test(w)) return w;
  if (/ie[sd]$/.test(w) && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(?:ss|us|is)$/.test(w)) { /* not a plural: access, status, analysis */ }
  else if (/(?:xes|zes|ches|shes|sses)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s')) w = w.slice(0, -1);

  const cut = /ing$/.test(w) && w.length - 3 >= 3 ? 3 : /ed$/.test(w) && w.length - 2 >= 3 ? 2 : 0;
  if (cut > 0) {
    w = w.slice(0, -cut);
    if (/([^aeiouls])\1$/.test(w)) w = w.slice(0, -1);
    else if (/^[^aeiou][aeiou][^aeiouwxy]$/.test(w)) w = `${w}e`;
  }
  if (w.length >= 5 && w.endsWith('our')) w = `${w.slice(0, -3)}or`;
  if (/i[sz]e$/.test(w) && w.length - 3 >= 4) w = w.slice(0, -3);
  else if (/i[sz]$/.test(w) && w.length - 2 >= 4) w = w.slice(0, -2);
  else if (/[ye]$/.test(w) && w.length - 1 >= 4) w = w.slice(0, -1);
  return w;
}

/**
 * A verb and its regular inflections (save: saves, saved, saving; tidy: tidies, tidied; put:
 * putting). Verbs are matched by these exact forms, because a stem shared by accident ("stories",
 * "store") must never turn a read into a write.
 */
export function wordForms(word: string): string[] {
  const w = word.toLowerCase();
  const forms = [w, `${w}s`, `${w}es`, `${w}ed`, `${w}d`, `${w}ing`, `${w}${w.slice(-1)}ed`, `${w}${w.slice(-1)}ing`];
  if (w.endsWith('e')) forms.push(`${w.slice(0, -1)}ing`);
  if (w.endsWith('y')) forms.push(`${w.slice(0, -1)}ies`, `${w.slice(0, -1)}ied`);
  return forms;
}

/**
 * True when a and b differ by at most one insertion, deletion, substitution or transposition of
 * adjacent letters (Damerau, restricted). Linear time: it never builds the full table.
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
