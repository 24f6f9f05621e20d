/** The shapes of the intent catalog and of what an intent derives to. */

export const GROUPS = [
  'model', 'chat', 'mail', 'developer', 'knowledge', 'web', 'files', 'shell', 'schedule', 'text',
] as const;
export type Group = (typeof GROUPS)[number];

/** One capability of the catalog, as loaded and checked. */
export interface CatalogEntry {
  id: string;
  group: Group;
  title: string;
  /** One line: why granting this is needed, shown beside every grant it makes. */
  reason: string;
  /** As written in the catalog: `word`, `two words`, `prefix*`, `=literal`. */
  triggers: string[];
  /** Scopes; `{host}` stands for the host the intent names (then `host` says what it is). */
  grants: string[];
  host?: string;
  /** A local folder: `files.read:<folder>`, or `files.write:<folder>` when its clause says to write. */
  folder?: string;
  /** Paths typed in the intent (`~/notes`, `/srv/data`) are granted under this entry. */
  paths: boolean;
  /** What the user must still say; the entry grants nothing itself. */
  needs?: string;
  /** `needs` is met when one of these capabilities made a grant. */
  absorbedBy: string[];
  /** Whether connections outside the policy ask (web research) or are denied. */
  networkMisses: 'deny' | 'ask';
  /** An agent-level feature (a cron tool, web tools, summaries) the lead maps to agent config. */
  feature: boolean;
  /** Where the entry was defined. */
  source: { file: string; line: number };
}

/** One word of a trigger, prepared for matching. */
export interface TriggerWord {
  lower: string;
  stem: string;
  /** `gpt*`: any word starting with `gpt` (gpt, gpt-4o, gpt5). */
  prefix: boolean;
  /** `=teams`: exactly this word, no stemming, no typo tolerance. */
  literal: boolean;
  /** A stop word inside a trigger ("every morning") must be typed as is. */
  stop: boolean;
}

export interface CompiledTrigger {
  capability: string;
  text: string;
  words: TriggerWord[];
  /** Position in the catalog: the last tie-breaker, so matching is deterministic. */
  order: number;
}

export interface Catalog {
  entries: CatalogEntry[];
  byId: ReadonlyMap<string, CatalogEntry>;
  triggers: CompiledTrigger[];
  /**
   * Verbs that say what to do ("read", "post"), with their inflections; understood when their
   * sentence names a capability. Exact forms, not stems: "stories" must not read as "store".
   */
  actions: ReadonlySet<string>;
  /** Verbs, with their inflections, that turn a folder grant into files.write ("save", "edited"). */
  writeWords: ReadonlySet<string>;
  /** Real words never read as a typo of a trigger ("discard" is not "discord"). */
  notTypos: ReadonlySet<string>;
  /** The files this catalog was read from, in order (shipped first). */
  files: string[];
}

export interface IntentGrant {
  /** Parseable by src/policy/scope.ts parseScope. */
  scope: string;
  /** The exact phrase from the intent as typed, or `--model <id>`. */
  because: string;
  /** The catalog id. */
  capability: string;
  /** The entry's one-line reason. */
  reason: string;
}

export interface IntentResult {
  grants: IntentGrant[];
  /** Words that matched nothing, in order, deduplicated; stop words are never listed. */
  notUnderstood: string[];
  negated: { capability: string; phrase: string }[];
  /** 'ask' only when web research (or feeds) was asked for. */
  networkMisses: 'deny' | 'ask';
  model: { provider: string | null; phrase: string | null };
  /** Agent-level features the lead maps to the agent's own configuration. */
  features: { capability: string; phrase: string }[];
  /**
   * What the user must still say before a capability can be granted, one sentence each:
   * `"imap" needs the IMAP server's name, e.g. imap.fastmail.com`. Nothing is granted for them.
   */
  needs: string[];
  /** Typos read as a trigger word: shown so a surprising reading is visible. */
  corrections: { typed: string; readAs: string }[];
}

/** A capability chosen for a phrase, by the matcher or by an assistant. */
export interface Choice {
  capability: string;
  phrase: string;
}
