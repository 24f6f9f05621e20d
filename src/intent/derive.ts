/**
 * Intent -> grants. Every grant carries the phrase that caused it; nothing is granted that no phrase
 * asked for, except the model provider chosen with --model. A pure function of the text, the
 * catalog and the options: the same input always gives the same result, in the text's order.
 */
import { ArmorerError } from '../core/index.js';
import { applyNegations, findMatches, type Match } from './match.js';
import { intentPath } from './paths.js';
import type { Catalog, CatalogEntry, Choice, IntentGrant, IntentResult } from './types.js';
import { MAX_INTENT_CHARS, NEGATIONS, STOP_WORDS, tokenise, type Token } from './words.js';

export interface DeriveOptions {
  /** `--model`: a catalog provider id like 'openai'. */
  model?: string;
}

export function deriveIntent(text: string, catalog: Catalog, opts: DeriveOptions = {}): IntentResult {
  return deriveWith(text, catalog, opts, []);
}

/**
 * The derivation with extra matches chosen by an assistant (already checked against the catalog):
 * each must name a phrase of the text that no trigger matched. Exported for assist.ts only.
 */
export function deriveWith(text: string, catalog: Catalog, opts: DeriveOptions, choices: Choice[]): IntentResult {
  if (typeof text !== 'string') {
    throw new ArmorerError('ARMORER_E_INTENT_TEXT', 'the intent is not text', 'pass the intent as a string, e.g. --intent "read my RSS feeds"');
  }
  if (text.length > MAX_INTENT_CHARS) {
    throw new ArmorerError('ARMORER_E_INTENT_TEXT', `the intent is ${text.length} characters long; at most ${MAX_INTENT_CHARS} are read`,
      'say what the agent is for in a few sentences; details belong in the agent\'s own instructions');
  }
  const tokens = tokenise(text);
  const matches = findMatches(tokens, catalog);
  for (const c of choices) {
    const m = assistedMatch(tokens, matches, c, text);
    if (m) matches.push(m);
  }
  matches.sort((a, b) => a.first - b.first);
  const negatedPaths = applyNegations(tokens, matches);
  return new Derivation(text, tokens, catalog, opts).run(matches, negatedPaths);
}

class Derivation {
  private readonly grants: IntentGrant[] = [];
  private readonly seen = new Set<string>();
  private readonly negated: IntentResult['negated'] = [];
  private readonly features: IntentResult['features'] = [];
  private readonly needs: { capability: string; phrase: string; need: string }[] = [];
  private readonly consumed = new Set<number>();
  private networkMisses: IntentResult['networkMisses'] = 'deny';
  private readonly pathsEntry: CatalogEntry;

  constructor(private readonly text: string, private readonly tokens: Token[], private readonly catalog: Catalog,
    private readonly opts: DeriveOptions) {
    this.pathsEntry = catalog.entries.find((e) => e.paths)!;
  }

  run(matches: Match[], negatedPaths: Map<number, number>): IntentResult {
    const negatedIds = new Set<string>();
    for (const m of matches) {
      for (let i = m.first; i <= m.last; i++) this.consumed.add(i);
      if (m.negatedBy === undefined) continue;
      negatedIds.add(m.capability);
      this.addOnce(this.negated, { capability: m.capability, phrase: this.span(this.negationStart(m.negatedBy), m.last) });
    }
    const paths = this.tokens.flatMap((t, i) => (t.kind === 'path' ? [i] : []));
    for (const [p, n] of negatedPaths) {
      this.negated.push({ capability: this.pathsEntry.id, phrase: this.span(this.negationStart(n), p) });
    }
    const live = matches.filter((m) => !negatedIds.has(m.capability));
    const model = this.chooseModel(live, negatedIds);
    const pending: { entry: CatalogEntry; phrase: string }[] = [];
    // Matches and paths together, in the order they appear in the text.
    const hits = [...live.map((m) => ({ at: m.first, m })), ...paths.map((p) => ({ at: p, m: undefined }))]
      .sort((a, b) => a.at - b.at);
    for (const { at, m } of hits) {
      if (m === undefined) {
        this.consumed.add(at);
        if (!negatedPaths.has(at)) this.folderGrant(this.pathsEntry, at, at, this.tokens[at]!.text);
        continue;
      }
      const entry = this.catalog.byId.get(m.capability)!;
      const phrase = this.span(m.first, m.last);
      if (entry.folder !== undefined) this.folderGrant(entry, m.first, m.last, entry.folder);
      else if (entry.host !== undefined) this.hostGrants(entry, m, phrase);
      else for (const scope of entry.grants) this.grant(scope, phrase, entry);
      if (entry.needs !== undefined) pending.push({ entry, phrase });
      if (entry.feature) this.addOnce(this.features, { capability: entry.id, phrase });
      if (entry.networkMisses === 'ask') this.networkMisses = 'ask';
    }
    const granted = new Set(this.grants.map((g) => g.capability));
    for (const { entry, phrase } of pending) {
      if (!entry.absorbedBy.some((id) => granted.has(id))) this.addOnce(this.needs, { capability: entry.id, phrase, need: entry.needs! });
    }
    const corrections: IntentResult['corrections'] = [];
    for (const c of matches.flatMap((m) => m.corrections)) {
      if (!corrections.some((x) => x.typed === c.typed && x.readAs === c.readAs)) corrections.push(c);
    }
    return {
      grants: this.grants, notUnderstood: this.notUnderstood(matches, paths), negated: this.negated,
      networkMisses: this.networkMisses, model, features: this.features,
      needs: this.needs.map((n) => `"${n.phrase}" needs ${n.need}`), corrections,
    };
  }

  /** The provider named first in the text; else --model; else none (the run will ask). */
  private chooseModel(live: Match[], negatedIds: Set<string>): IntentResult['model'] {
    const providers = live.filter((m) => {
      const e = this.catalog.byId.get(m.capability)!;
      return e.group === 'model' && e.grants.length > 0;
    });
    const wanted = this.opts.model;
    if (wanted !== undefined) {
      const e = this.catalog.byId.get(wanted);
      const known = this.catalog.entries.filter((x) => x.group === 'model' && x.grants.length > 0).map((x) => x.id);
      if (!e || !known.includes(wanted)) {
        throw new ArmorerError('ARMORER_E_INTENT_MODEL', `--model "${wanted}" is not a model provider of the intent catalog`,
          `use one of: ${known.join(', ')}`);
      }
      if (negatedIds.has(wanted)) {
        const said = this.negated.find((n) => n.capability === wanted)!.phrase;
        throw new ArmorerError('ARMORER_E_INTENT_MODEL', `--model ${wanted} was given, but the intent says "${said}"`,
          'drop --model, or change the intent');
      }
      if (providers.length > 0 && !providers.some((m) => m.capability === wanted)) {
        const said = this.span(providers[0]!.first, providers[0]!.last);
        throw new ArmorerError('ARMORER_E_INTENT_MODEL', `--model ${wanted} was given, but the intent names "${said}" (${providers[0]!.capability})`,
          `drop --model, or name ${wanted} in the intent`);
      }
      if (providers.length === 0) {
        for (const scope of e.grants) this.grant(scope, `--model ${wanted}`, e);
        return { provider: wanted, phrase: null };
      }
    }
    const first = providers[0];
    return first ? { provider: first.capability, phrase: this.span(first.first, first.last) } : { provider: null, phrase: null };
  }

  /** files.read, or files.write when a write word shares the clause; `because` then spans both. */
  private folderGrant(entry: CatalogEntry, first: number, last: number, path: string): void {
    const where = `the intent (at "${this.span(first, last)}")`;
    const normal = intentPath(path, where);
    const clause = this.tokens[first]!.clause;
    // A word inside a trigger ("downloads folder") is the trigger's, not a verb.
    const writer = this.tokens.findIndex((t, i) => t.clause === clause && t.kind === 'word'
      && this.catalog.writeWords.has(t.lower) && !this.consumed.has(i));
    if (writer === -1) {
      this.grant(`files.read:${normal}`, this.span(first, last), entry);
    } else {
      this.grant(`files.write:${normal}`, this.span(Math.min(writer, first), Math.max(writer, last)), entry);
    }
  }

  /** Entries whose grants need a host the user names (IMAP, Matrix): the nearest in the sentence. */
  private hostGrants(entry: CatalogEntry, m: Match, phrase: string): void {
    const sentence = this.tokens[m.first]!.sentence;
    // A host serves one entry: "imap at imap.example.com and smtp" does not guess the SMTP server.
    const isHost = (i: number): boolean => this.tokens[i]!.kind === 'host' && this.tokens[i]!.sentence === sentence
      && !this.consumed.has(i);
    let h = -1;
    for (let i = m.last + 1; i < this.tokens.length && h === -1; i++) if (isHost(i)) h = i;
    for (let i = m.first - 1; i >= 0 && h === -1; i--) if (isHost(i)) h = i;
    if (h === -1) {
      this.addOnce(this.needs, { capability: entry.id, phrase, need: entry.host! });
      return;
    }
    this.consumed.add(h);
    const because = this.span(Math.min(h, m.first), Math.max(h, m.last));
    for (const scope of entry.grants) this.grant(scope.replaceAll('{host}', this.tokens[h]!.lower), because, entry);
  }

  private grant(scope: string, because: string, entry: CatalogEntry): void {
    if (this.seen.has(scope)) return;
    this.seen.add(scope);
    this.grants.push({ scope, because, capability: entry.id, reason: entry.reason });
  }

  private addOnce<T extends { capability: string }>(list: T[], item: T): void {
    if (!list.some((x) => x.capability === item.capability)) list.push(item);
  }

  /** "do not", "must not": the phrase of a negation starts at the auxiliary. */
  private negationStart(n: number): number {
    const before = this.tokens[n - 1];
    const aux = ['do', 'does', 'did', 'must', 'should', 'will', 'can', 'could', 'would', 'may', 'shall'];
    return this.tokens[n]!.lower === 'not' && before?.kind === 'word' && aux.includes(before.lower)
      && before.clause === this.tokens[n]!.clause ? n - 1 : n;
  }

  /** The text as typed from token a to token b. */
  private span(a: number, b: number): string {
    return this.text.slice(this.tokens[a]!.start, this.tokens[b]!.end);
  }

  /**
   * What matched nothing: not a stop word, a negation, part of a match, a path or a used host; an
   * action word counts as understood only when its sentence names a capability.
   */
  private notUnderstood(matches: Match[], paths: number[]): string[] {
    const busy = new Set([...matches.map((m) => this.tokens[m.first]!.sentence), ...paths.map((p) => this.tokens[p]!.sentence)]);
    const out: string[] = [];
    const seen = new Set<string>();
    for (const [i, t] of this.tokens.entries()) {
      if (t.kind === 'punct' || this.consumed.has(i)) continue;
      if (t.kind === 'word' && (STOP_WORDS.has(t.lower) || NEGATIONS.has(t.lower))) continue;
      if (t.kind === 'word' && this.catalog.actions.has(t.lower) && busy.has(t.sentence)) continue;
      if (seen.has(t.lower)) continue;
      seen.add(t.lower);
      out.push(t.text);
    }
    return out;
  }
}

/**
 * An assistant's choice as a match: the first occurrence of its phrase that no trigger matched.
 * Repeating a trigger's own match (same words, same capability) adds nothing and is dropped.
 */
function assistedMatch(tokens: Token[], matches: Match[], c: Choice, text: string): Match | undefined {
  const want = tokenise(c.phrase).filter((t) => t.kind !== 'punct').map((t) => t.lower);
  const taken = (i: number): boolean => matches.some((m) => i >= m.first && i <= m.last);
  const meaningful = want.some((w) => !STOP_WORDS.has(w) && !NEGATIONS.has(w));
  for (let i = 0; meaningful && i + want.length <= tokens.length; i++) {
    const span = tokens.slice(i, i + want.length);
    if (!span.every((t, k) => t.lower === want[k] && t.kind !== 'punct')) continue;
    const last = i + want.length - 1;
    if (matches.some((m) => m.first === i && m.last === last && m.capability === c.capability)) return undefined;
    if (!span.some((_, k) => taken(i + k))) {
      return { capability: c.capability, first: i, last, corrections: [], assisted: true };
    }
  }
  const said = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  throw new ArmorerError('ARMORER_E_INTENT_ASSIST',
    `the assistant chose "${c.capability}" for the phrase "${c.phrase}", which is not a phrase of the intent ("${said}") left unmatched`,
    'run without --assist, or rephrase the intent with words from the catalog (docs/intents.md)');
}
