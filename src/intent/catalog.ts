/**
 * Loads the intent catalog: the YAML shipped with Armorer, then `$ARMORER_HOME/intents.yaml` if
 * present, whose entries replace shipped ones with the same id or add new ones. Everything is
 * checked (schema, scopes, trigger clashes, references) and refused with file:line, never skipped.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document, LineCounter, Node } from 'yaml';
import type { ZodIssue } from 'zod';
import { ArmorerError, armorerHome as defaultHome } from '../core/index.js';
import { loadYaml } from '../core/yaml.js';
import { parseScope } from '../policy/scope.js';
import { catalogFileSchema, ENTRY_KEYS, FILE_KEYS, ID_RE, TRIGGER_WORD_RE, type CatalogFileDocument, type EntryDocument } from './catalog-schema.js';
import { intentPath } from './paths.js';
import type { Catalog, CatalogEntry, CompiledTrigger, TriggerWord } from './types.js';
import { STOP_WORDS, stem, wordForms } from './words.js';

const MAX_FILE_BYTES = 256 * 1024;
const USER_FILE = 'intents.yaml';
const FIX_FORMAT = 'see docs/intents.md for the catalog format';

/** The shipped catalog: beside this module from source, in dist/intent/ once bundled. */
export function shippedCatalogPath(): string {
  for (const rel of ['./catalog.yaml', '../intent/catalog.yaml']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new ArmorerError('ARMORER_E_INTENT_CATALOG', 'the shipped intent catalog (intent/catalog.yaml) is missing',
    'reinstall Armorer; a build must copy src/intent/catalog.yaml to dist/intent/');
}

/** The shipped catalog plus `<armorerHome>/intents.yaml` when it exists. */
export async function loadCatalog(armorerHome: string = defaultHome()): Promise<Catalog> {
  const shipped = shippedCatalogPath();
  const user = join(armorerHome, USER_FILE);
  let userText: string | undefined;
  if (existsSync(user)) userText = readCatalogFile(user);
  return parseCatalog([{ file: shipped, text: readCatalogFile(shipped) },
    ...(userText === undefined ? [] : [{ file: user, text: userText }])]);
}

function readCatalogFile(file: string): string {
  try {
    if (statSync(file).size > MAX_FILE_BYTES) {
      throw new ArmorerError('ARMORER_E_INTENT_CATALOG', `${file} is larger than 256 KiB`, 'a catalog is a short YAML file');
    }
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ArmorerError) throw e;
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'error';
    throw new ArmorerError('ARMORER_E_INTENT_CATALOG', `cannot read ${file} (${code})`,
      code === 'EISDIR' ? 'intents.yaml must be a file' : 'make the file readable by your user, or move it away');
  }
}

interface Located { doc: CatalogFileDocument; file: string; line: (path: (string | number)[]) => number }

/** Parses and merges catalog texts, the first being the base and each later one overriding it. */
export async function parseCatalog(sources: { file: string; text: string }[]): Promise<Catalog> {
  const files: Located[] = [];
  for (const s of sources) files.push(await parseFile(s.file, s.text));
  const entries: CatalogEntry[] = [];
  const actions: string[] = [];
  const writeWords: string[] = [];
  const notTypos: string[] = [];
  for (const [n, f] of files.entries()) {
    const ids = new Set<string>();
    for (const [i, raw] of (f.doc.remove ?? []).entries()) {
      const at = entries.findIndex((e) => e.id === raw);
      if (n === 0 || at === -1) {
        throw located(f, ['remove', i], `remove names "${raw}", which no earlier catalog defines`,
          'list ids of shipped entries (armorer intents list shows them)');
      }
      entries.splice(at, 1);
    }
    for (const [i, raw] of (f.doc.capabilities ?? []).entries()) {
      if (ids.has(raw.id)) {
        throw located(f, ['capabilities', i, 'id'], `the id "${raw.id}" is defined twice in this file`,
          'give each capability its own id');
      }
      ids.add(raw.id);
      const entry = checkEntry(raw, f, i);
      const at = entries.findIndex((e) => e.id === raw.id);
      if (at === -1) entries.push(entry);
      else entries[at] = entry;
    }
    actions.push(...(f.doc.actions ?? []));
    writeWords.push(...(f.doc.writeWords ?? []));
    notTypos.push(...(f.doc.notTypos ?? []));
  }
  const byId = new Map(entries.map((e) => [e.id, e]));
  const triggers = compileTriggers(entries);
  const actionForms = new Set([...actions, ...writeWords].flatMap(wordForms));
  checkWhole(entries, byId, triggers, actionForms);
  return {
    entries, byId, triggers, actions: actionForms, writeWords: new Set(writeWords.flatMap(wordForms)),
    notTypos: new Set(notTypos.map((w) => w.toLowerCase())), files: files.map((f) => f.file),
  };
}

async function parseFile(file: string, text: string): Promise<Located> {
  const yaml = await loadYaml();
  const counter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => counter.linePos(offset).line;
  const syntax = doc.errors[0];
  if (syntax) {
    throw new ArmorerError('ARMORER_E_INTENT_CATALOG', `not valid YAML: ${syntax.message.split('\n')[0]}`,
      'fix the YAML at that line (indentation, quotes, brackets, duplicate keys)', loc(file, counter, syntax.pos[0]));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw new ArmorerError('ARMORER_E_INTENT_CATALOG', `the catalog cannot be read: ${(e as Error).message}`,
      'write the catalog without YAML aliases', loc(file, counter, 0));
  }
  const line = (path: (string | number)[]): number => lineAt(nodeAt(yaml, doc, path)?.range?.[0] ?? 0);
  const parsed = catalogFileSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = [...parsed.error.issues].sort((a, b) => line(a.path) - line(b.path))[0]!;
    const l = line(issue.path);
    throw new ArmorerError('ARMORER_E_INTENT_CATALOG', issueText(issue),
      issueFix(issue), { file, line: l, column: 1 });
  }
  return { doc: parsed.data, file, line };
}

function loc(file: string, counter: LineCounter, offset: number): { file: string; line: number; column: number } {
  const { line, col } = counter.linePos(offset);
  return { file, line, column: col };
}

function issueText(i: ZodIssue): string {
  const where = i.path.length === 0 ? 'the catalog' : i.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
  if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} in ${where}`;
  if (i.code === 'invalid_type' && i.received === 'undefined') return `${where} is missing`;
  return `${where}: ${i.message}`;
}

function issueFix(i: ZodIssue): string {
  if (i.code === 'unrecognized_keys') {
    const inEntry = i.path[0] === 'capabilities';
    return `the keys allowed here are: ${(inEntry ? ENTRY_KEYS : FILE_KEYS).join(', ')}`;
  }
  if (i.path[0] === 'version') return 'put "version: 1" at the top of the file';
  return FIX_FORMAT;
}

type YamlModule = typeof import('yaml');

/** The YAML node at a path, or the deepest one that exists along it. */
function nodeAt(yaml: YamlModule, doc: Document, path: (string | number)[]): Node | undefined {
  let node = doc.contents as Node | null;
  for (const seg of path) {
    if (yaml.isMap(node)) {
      const pair = node.items.find((p) => yaml.isScalar(p.key) && p.key.value === seg);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (yaml.isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return node;
      node = item;
    } else break;
  }
  return node ?? undefined;
}

function located(f: Located, path: (string | number)[], message: string, fix: string): ArmorerError {
  const line = f.line(path);
  return new ArmorerError('ARMORER_E_INTENT_CATALOG', message, fix, { file: f.file, line, column: 1 });
}

/** Scopes are checked with the policy's own parser; a scratch context keeps files scopes pure. */
const CHECK_CTX = { home: '/nonexistent-armorer-check/home', workspace: '/nonexistent-armorer-check/workspace' };

function checkEntry(raw: EntryDocument, f: Located, i: number): CatalogEntry {
  const at = (...p: (string | number)[]): (string | number)[] => ['capabilities', i, ...p];
  const fail = (p: (string | number)[], message: string, fix: string): never => {
    throw located(f, p, `capability "${raw.id}": ${message}`, fix);
  };
  const grants = raw.grants ?? [];
  const usesHost = grants.some((g) => g.includes('{host}'));
  for (const [k, g] of grants.entries()) {
    if (g.startsWith('files.')) {
      if (g.includes('{host}')) fail(at('grants', k), `"${g}" puts {host} in a files scope`, 'use {host} only in net.outbound and secrets.access');
      try {
        intentPath(g.slice(g.indexOf(':') + 1), `grant "${g}"`);
      } catch (e) {
        if (e instanceof ArmorerError) fail(at('grants', k), e.message, e.fix);
        throw e;
      }
    }
    try {
      parseScope(g.replaceAll('{host}', 'host.invalid'), CHECK_CTX);
    } catch (e) {
      if (e instanceof ArmorerError) fail(at('grants', k), e.message, e.fix);
      throw e;
    }
  }
  if (usesHost && raw.host === undefined) fail(at('grants'), 'uses {host} but has no "host:" saying what host it is', 'add e.g. host: "the IMAP server\'s name, e.g. imap.example.com"');
  if (!usesHost && raw.host !== undefined) fail(at('host'), 'has "host:" but no grant uses {host}', 'remove host:, or use {host} in a grant');
  if (raw.needs !== undefined && (grants.length > 0 || raw.folder !== undefined)) {
    fail(at('needs'), 'has "needs:" and also grants; needs means the entry grants nothing until the user says more', 'remove needs:, or the grants');
  }
  if (raw.absorbedBy !== undefined && raw.needs === undefined) fail(at('absorbedBy'), 'has "absorbedBy:" without "needs:"', 'remove absorbedBy:, or add needs:');
  if (raw.folder !== undefined && grants.length > 0) fail(at('folder'), 'has both "folder:" and grants', 'a folder entry grants its folder only; remove the grants');
  let folder: string | undefined;
  if (raw.folder !== undefined) {
    try {
      folder = intentPath(raw.folder, `folder "${raw.folder}"`);
    } catch (e) {
      if (e instanceof ArmorerError) fail(at('folder'), e.message, e.fix);
      throw e;
    }
  }
  if (raw.group === 'model' && grants.length > 0 && !grants.some((g) => g.startsWith('net.outbound:'))) {
    fail(at('grants'), 'is a model provider without a net.outbound grant', 'grant the provider\'s API host, e.g. net.outbound:api.example.com:443');
  }
  for (const [k, t] of raw.triggers.entries()) {
    const words = t.trim().split(/\s+/);
    const bad = words.find((w) => !TRIGGER_WORD_RE.test(w.toLowerCase()));
    if (bad !== undefined) fail(at('triggers', k), `the trigger "${t}" has "${bad}", which is not a word`, 'a trigger is words of letters and digits, e.g. "google drive", "gpt*" or "=teams"');
    if (words.every((w) => STOP_WORDS.has(w.toLowerCase()))) fail(at('triggers', k), `the trigger "${t}" has only stop words`, 'add the word that names the capability');
  }
  const entry: CatalogEntry = {
    id: raw.id, group: raw.group, title: raw.title, reason: raw.reason, triggers: raw.triggers, grants,
    paths: raw.paths ?? false, absorbedBy: raw.absorbedBy ?? [], networkMisses: raw.networkMisses ?? 'deny',
    feature: raw.feature ?? false, source: { file: f.file, line: f.line(at()) },
  };
  if (raw.host !== undefined) entry.host = raw.host;
  if (folder !== undefined) entry.folder = folder;
  if (raw.needs !== undefined) entry.needs = raw.needs;
  return entry;
}

export function compileTriggers(entries: CatalogEntry[]): CompiledTrigger[] {
  let order = 0;
  return entries.flatMap((e) => e.triggers.map((text): CompiledTrigger => ({
    capability: e.id, text, order: order++,
    words: text.trim().toLowerCase().split(/\s+/).map((w): TriggerWord => {
      const literal = w.startsWith('=');
      const prefix = w.endsWith('*');
      const lower = w.replace(/^=/, '').replace(/\*$/, '');
      return { lower, stem: literal || prefix ? lower : stem(lower), literal, prefix, stop: STOP_WORDS.has(lower) };
    }),
  })));
}

function entryError(e: CatalogEntry, message: string, fix: string): ArmorerError {
  const { file, line } = e.source;
  return new ArmorerError('ARMORER_E_INTENT_CATALOG', `capability "${e.id}": ${message}`, fix, { file, line, column: 1 });
}

/** Checks that need the whole merged catalog: references, clashes, exactly one paths entry. */
function checkWhole(entries: CatalogEntry[], byId: Map<string, CatalogEntry>, triggers: CompiledTrigger[], actions: Set<string>): void {
  for (const e of entries) {
    const missing = e.absorbedBy.find((id) => !byId.has(id));
    if (missing !== undefined) throw entryError(e, `absorbedBy names "${missing}", which is not in the catalog`, 'name existing capability ids');
    if (!ID_RE.test(e.id)) throw entryError(e, 'has an invalid id', FIX_FORMAT);
  }
  const pathEntries = entries.filter((e) => e.paths);
  if (pathEntries.length !== 1) {
    const e = pathEntries[1] ?? entries[0];
    const why = pathEntries.length === 0 ? 'no capability has "paths: true"' : `both "${pathEntries[0]!.id}" and "${pathEntries[1]!.id}" have "paths: true"`;
    if (e === undefined) throw new ArmorerError('ARMORER_E_INTENT_CATALOG', 'the intent catalog is empty', 'restore the shipped catalog');
    throw entryError(e, why, 'exactly one capability takes the paths an intent names; keep paths: true on one');
  }
  const seen = new Map<string, CompiledTrigger>();
  for (const t of triggers) {
    const key = t.words.map((w) => (w.literal ? `=${w.lower}` : w.prefix ? `${w.lower}*` : w.stem)).join(' ');
    const other = seen.get(key);
    if (other) {
      const e = byId.get(t.capability)!;
      const o = byId.get(other.capability)!;
      throw entryError(e, `the trigger "${t.text}" is the same as "${other.text}" of "${o.id}" (${o.source.file}:${o.source.line})`,
        'remove it from one of them; to take over a shipped trigger, override that entry by id in intents.yaml');
    }
    seen.set(key, t);
    if (t.words.length === 1 && !t.words[0]!.literal && !t.words[0]!.prefix && actions.has(t.words[0]!.lower)) {
      throw entryError(byId.get(t.capability)!, `the trigger "${t.text}" is also an action word`,
        'remove the word from actions (or writeWords), or from the triggers');
    }
  }
}
