/**
 * Reads a policy YAML into a Policy. Every error points at the line and column of the node that
 * caused it: YAML syntax, schema (mapped from zod's issue path back to the YAML node) and scopes.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ZodIssue } from 'zod';
import { ArmorerError } from '../core/index.js';
import { KNOWN_KEYS, policySchema, type Grant, type Policy, type PolicyDocument } from './schema.js';
import { parseScope, type ScopeContext } from './scope.js';

const MAX_POLICY_BYTES = 1024 * 1024;

type Location = { file: string; line: number; column: number };
type Path = (string | number)[];

const FIELD_FIXES: Record<string, string> = {
  version: 'put "version: 1" at the top of the policy',
  name: 'write a short name, e.g. name: notes-reader',
  grants: 'write a list of scopes, e.g. grants: [files.read:~/notes]',
  'grants.*': 'write a scope string, or a mapping like {scope: files.read:~/notes, because: "..."}',
  'grants.*.scope': 'write a scope string, e.g. scope: files.read:~/notes',
  'grants.*.because': 'write the reason in words, e.g. because: "the intent said: read my notes"',
  limits: 'write a mapping of limits, e.g. limits: {memory: 1GiB, pids: 256}',
  'limits.memory': 'write a size, e.g. memory: 1GiB',
  'limits.fileSize': 'write a size, e.g. fileSize: 1GiB',
  'limits.pids': 'write a whole number of at least 1, e.g. pids: 256',
  'limits.cpus': 'write a number of cores above 0 and at most 1024, e.g. cpus: 1.5',
  'limits.openFiles': 'write a whole number of at least 16, e.g. openFiles: 1024',
  'limits.timeout': 'write whole seconds, 0 for none, e.g. timeout: 300',
  sandbox: 'write a mapping, e.g. sandbox: {unixSockets: true}',
  'sandbox.unixSockets': 'write true or false',
  'sandbox.writableGit': 'write true or false',
  'sandbox.protect': 'write a list of relative paths, e.g. protect: [".envrc"]',
  'sandbox.protect.*': 'write a path relative to each writable root, e.g. .envrc',
};

export function loadPolicyFile(file: string, ctx: ScopeContext): Policy {
  let text: string;
  try {
    if (statSync(file).size > MAX_POLICY_BYTES) {
      throw new ArmorerError('ARMORER_E_POLICY_READ', `policy file "${file}" is larger than 1 MiB`,
        'a policy is a short YAML file; check that this is the right file');
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ArmorerError) throw e;
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'error';
    const fix = code === 'ENOENT' ? 'check the path, or create the file with "version: 1"'
      : code === 'EACCES' ? 'make the file readable by your user'
      : code === 'EISDIR' ? 'give the path of a YAML file, not a directory'
      : 'check that the path names a readable file';
    throw new ArmorerError('ARMORER_E_POLICY_READ', `cannot read policy file "${file}" (${code})`, fix);
  }
  return parsePolicy(text, file, ctx);
}

export function parsePolicy(text: string, file: string, ctx: ScopeContext): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Location => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  const syntax = doc.errors[0];
  if (syntax) {
    throw new ArmorerError('ARMORER_E_POLICY_SYNTAX', `the policy is not valid YAML: ${syntax.message}`,
      'fix the YAML at this position (indentation, quotes, brackets, duplicate keys)', at(syntax.pos[0]));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ArmorerError('ARMORER_E_POLICY_SYNTAX', `the policy's YAML cannot be read: ${(e as Error).message}`,
      'write the policy without YAML aliases', at(0));
  }
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null || data === undefined ? 'the policy is empty' : 'the policy is not a YAML mapping';
    throw new ArmorerError('ARMORER_E_POLICY_SCHEMA', what,
      'start the policy with "version: 1", then grants, limits and sandbox keys', at(doc.contents?.range[0] ?? 0));
  }
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((i) => schemaErrors(i, data, doc, at));
    errors.sort((a, b) => a.location!.line - b.location!.line || a.location!.column - b.location!.column);
    throw errors[0]!;
  }
  return buildPolicy(parsed.data, file, doc, at, ctx);
}

function buildPolicy(
  data: PolicyDocument, file: string, doc: Document, at: (o: number) => Location, ctx: ScopeContext,
): Policy {
  const grants: Grant[] = (data.grants ?? []).map((g, i) => {
    const text = typeof g === 'string' ? g : g.scope;
    const item = nodeAt(doc, ['grants', i]);
    const scopeNode = typeof g === 'string' ? item : nodeAt(doc, ['grants', i, 'scope']);
    const location = at(scopeNode?.range?.[0] ?? 0);
    let scope;
    try {
      scope = parseScope(text, ctx);
    } catch (e) {
      if (e instanceof ArmorerError) throw new ArmorerError(e.code, e.message, e.fix, location);
      throw e;
    }
    const because = (typeof g === 'string' ? undefined : g.because) ?? `listed in ${basename(file)}`;
    return { scope, text, because, source: file, line: at(item?.range?.[0] ?? 0).line };
  });
  const l = data.limits ?? {};
  const limits = Object.fromEntries(Object.entries({
    memoryBytes: l.memory, pids: l.pids, cpus: l.cpus,
    fileSizeBytes: l.fileSize, openFiles: l.openFiles, timeoutSeconds: l.timeout,
  }).filter(([, v]) => v !== undefined));
  const policy: Policy = {
    version: 1, source: file, grants, limits,
    sandbox: {
      unixSockets: data.sandbox?.unixSockets ?? true,
      writableGit: data.sandbox?.writableGit ?? false,
      protect: data.sandbox?.protect ?? [],
    },
  };
  if (data.name !== undefined) policy.name = data.name;
  return policy;
}

/** One zod issue as ArmorerErrors (a union issue may stand for several), each with its location. */
function schemaErrors(issue: ZodIssue, data: unknown, doc: Document, at: (o: number) => Location): ArmorerError[] {
  const path = issue.path;
  const where = pathText(path);
  const fix = FIELD_FIXES[pattern(path)] ?? 'a policy has the keys version, name, grants, limits and sandbox';
  const make = (message: string, node: Node | undefined, f = fix): ArmorerError =>
    new ArmorerError('ARMORER_E_POLICY_SCHEMA', message, f, at(node?.range?.[0] ?? 0));

  const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_literal') && issue.received === undefined
    || (issue.code === 'invalid_type' && issue.received === 'undefined');
  if (missing) {
    const parent = path.slice(0, -1);
    return [make(`missing required key "${String(path[path.length - 1])}"${parent.length > 0
      ? ` in ${pathText(parent)}` : ''}`, nodeAt(doc, parent))];
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = KNOWN_KEYS[pattern(path)] ?? [];
        const near = suggest(key, known);
        const inWhat = path.length === 0 ? 'at the top level' : `in ${where}`;
        return make(`unknown key "${key}" ${inWhat}`, keyNodeAt(doc, path, key),
          near ? `did you mean "${near}"?` : `the keys allowed here are: ${known.join(', ')}`);
      });
    case 'invalid_union': {
      // A grant is a string or a mapping; report the mapping branch's issues when it is a mapping.
      const value = valueAt(data, path);
      const objectBranch = issue.unionErrors.find((e) =>
        !e.issues.some((i) => i.code === 'invalid_type' && i.expected === 'string' && i.path.length === path.length));
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && objectBranch) {
        return objectBranch.issues.flatMap((i) => schemaErrors(i, data, doc, at));
      }
      return [make(`${where} must be a scope string or a mapping {scope, because}`, nodeAt(doc, path))];
    }
    case 'invalid_literal':
      return [make(`${where} is ${JSON.stringify(issue.received)}; this Armorer reads policy version 1 only`,
        nodeAt(doc, path))];
    case 'invalid_type':
      if (issue.expected === 'integer') return [make(`${where} must be a whole number`, nodeAt(doc, path))];
      if (issue.received === 'null') return [make(`${where} is empty; it must be ${typeWord(issue.expected)}`, nodeAt(doc, path))];
      return [make(`${where} must be ${typeWord(issue.expected)}, not ${typeWord(issue.received)}`, nodeAt(doc, path))];
    case 'too_small':
      if (issue.type === 'string') return [make(`${where} must not be empty`, nodeAt(doc, path))];
      return [make(`${where} must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`,
        nodeAt(doc, path))];
    case 'too_big':
      return [make(`${where} must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`,
        nodeAt(doc, path))];
    case 'custom': {
      const customFix = typeof issue.params?.['fix'] === 'string' ? issue.params['fix'] : fix;
      return [make(`${where}: ${issue.message}`, nodeAt(doc, path), customFix)];
    }
    default:
      return [make(`${where}: ${issue.message}`, nodeAt(doc, path))];
  }
}

/** The node for a path, or the deepest node that exists along it; an empty value gives its key. */
function nodeAt(doc: Document, path: Path): Node | undefined {
  let node = doc.contents as Node | null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (!pair) return node;
      const value = pair.value as Node | null;
      const empty = !value || (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]);
      if (empty) return pair.key as Node;
      node = value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node ?? undefined;
    }
  }
  return node ?? undefined;
}

function keyNodeAt(doc: Document, path: Path, key: string): Node | undefined {
  const map = nodeAt(doc, path);
  if (!isMap(map)) return map;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return (pair?.key as Node | undefined) ?? map;
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

/** `grants[2].scope` */
function pathText(path: Path): string {
  if (path.length === 0) return 'the policy';
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** `grants.*.scope`, the key into FIELD_FIXES and KNOWN_KEYS. */
function pattern(path: Path): string {
  return path.map((s) => (typeof s === 'number' ? '*' : s)).join('.');
}

/** zod's type names in the words of YAML. */
function typeWord(t: string): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', boolean: 'true or false' };
  return words[t] ?? (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
}

/** The closest known key, if it is close enough to be a typo. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const key of known) {
    const d = key.toLowerCase() === word.toLowerCase() ? 0 : distance(word.toLowerCase(), key.toLowerCase());
    if (!best || d < best.d) best = { key, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.key.length / 3)) ? best.key : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
