import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { canonicalJson } from '../core/canonical-json.js';
import { ArmorerError } from '../core/errors.js';
import type { ChainBackend, SourceItem } from './backend.js';
import { publicKeyFromPem, type TrustedKey } from './keys.js';
import type { Checkpoint, StoredEvent } from './types.js';

/**
 * Exports. JSONL: a header line naming the format and the public keys, then one line per event
 * (its data inline, as hashed) with each checkpoint line after the event it covers. It verifies
 * on its own: `armorer logs verify --file`. Syslog: RFC 5424 lines for a collector; not verifiable.
 */
export type ExportFormat = 'jsonl' | 'syslog';
export const EXPORT_TYPE = 'armorer.audit.export';

export interface Output {
  write(chunk: string): boolean;
  once(event: 'drain', cb: () => void): unknown;
}

export async function exportLog(backend: ChainBackend, keys: TrustedKey[], format: ExportFormat, out: Output): Promise<{ events: number; checkpoints: number }> {
  const checkpoints = (await backend.checkpoints()) as Checkpoint[];
  const bySeq = new Map<number, Checkpoint[]>();
  for (const c of checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  const line = format === 'jsonl' ? jsonlEvent : syslogEvent;
  const cpLine = format === 'jsonl' ? jsonlCheckpoint : syslogCheckpoint;
  if (format === 'jsonl') {
    await write(out, `${JSON.stringify({
      type: EXPORT_TYPE, version: 1, exported: new Date().toISOString(), source: backend.location,
      keys: keys.map((k) => ({ key_id: k.id, public_key: k.pem })),
    })}\n`);
  }
  let events = 0;
  let written = 0;
  for await (const batch of backend.rows().batches()) {
    let text = '';
    for (const item of batch) {
      if ('malformed' in item) continue;
      text += line(item);
      events++;
      for (const c of bySeq.get(item.seq) ?? []) { text += cpLine(c); written++; }
      bySeq.delete(item.seq);
    }
    await write(out, text);
  }
  // Checkpoints past the last event (a truncated log) are exported too, so the copy shows it.
  let rest = '';
  for (const cs of [...bySeq.values()]) for (const c of cs) { rest += cpLine(c); written++; }
  if (rest) await write(out, rest);
  return { events, checkpoints: written };
}

function write(out: Output, text: string): Promise<void> {
  if (text === '' || out.write(text)) return Promise.resolve();
  return new Promise((resolve) => out.once('drain', resolve));
}

const q = JSON.stringify;
const n = (v: string | null) => (v === null ? 'null' : q(v));

/** `data` goes in as stored (its canonical text), so the line carries exactly the hashed bytes. */
function jsonlEvent(e: StoredEvent): string {
  return `{"type":"event","seq":${e.seq},"time":${q(e.time)},"actor":${q(e.actor)},"agent":${q(e.agent)},"kind":${q(e.kind)},` +
    `"decision":${n(e.decision)},"rule":${n(e.rule)},"reason":${n(e.reason)},"data":${e.data},"prev_hash":${q(e.prev_hash)},"hash":${q(e.hash)}}\n`;
}

function jsonlCheckpoint(c: Checkpoint): string {
  return `${JSON.stringify({ type: 'checkpoint', seq: c.seq, hash: c.hash, time: c.time, key_id: c.key_id, signature: c.signature })}\n`;
}

// RFC 5424. Facility 13 ("log audit"); severity by decision. 32473 is the example enterprise
// number RFC 5612 reserves for documentation: the structured data is Armorer's own.
const HOST = sdName(hostname()) || '-';
const SEVERITY: Record<string, number> = { deny: 4, ask: 5, allow: 6 };

function syslogEvent(e: StoredEvent): string {
  const pri = 13 * 8 + (SEVERITY[e.decision ?? ''] ?? 6);
  const sd = `[armorer@32473 seq="${e.seq}" agent="${sdValue(e.agent)}" actor="${sdValue(e.actor)}"` +
    `${e.decision ? ` decision="${sdValue(e.decision)}"` : ''}${e.rule ? ` rule="${sdValue(e.rule)}"` : ''} hash="${sdValue(e.hash)}"]`;
  const msg = JSON.stringify({ reason: e.reason, data: safeParse(e.data) });
  return `<${pri}>1 ${e.time} ${HOST} armorer - ${sdName(e.kind) || '-'} ${sd} ${msg}\n`;
}

function syslogCheckpoint(c: Checkpoint): string {
  return `<${13 * 8 + 6}>1 ${c.time} ${HOST} armorer - audit.checkpoint [armorer@32473 seq="${c.seq}" hash="${sdValue(c.hash)}" ` +
    `key_id="${sdValue(c.key_id)}" signature="${sdValue(c.signature)}"] -\n`;
}

/** PRINTUSASCII without space, at most 32 (RFC 5424 MSGID / HOSTNAME use a subset of it). */
function sdName(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '_').slice(0, 32);
}

function sdValue(s: string): string {
  return s.replace(/[\\"\]]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, ' ');
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface ParsedExport {
  header: { keys: TrustedKey[]; source: string; exported: string } | null;
  checkpoints: unknown[];
}

/**
 * Reads an export twice, streaming: first for the header and every checkpoint (the verifier needs
 * them before it walks the events), then for the events, as verifier input. A line that is not a
 * well-formed event or checkpoint becomes a `malformed` item at its place in the stream.
 */
export async function readExportMeta(file: string): Promise<ParsedExport> {
  const result: ParsedExport = { header: null, checkpoints: [] };
  let lineNo = 0;
  for await (const text of lines(file)) {
    lineNo++;
    const v = parseLine(text);
    if (lineNo === 1) {
      result.header = v && v['type'] === EXPORT_TYPE ? parseHeader(v, file) : null;
      continue;
    }
    if (v && v['type'] === 'checkpoint') result.checkpoints.push(pickCheckpoint(v));
  }
  return result;
}

export async function* exportRows(file: string): AsyncIterable<SourceItem[]> {
  let lineNo = 0;
  let lastSeq = 0;
  let batch: SourceItem[] = [];
  for await (const text of lines(file)) {
    lineNo++;
    if (lineNo === 1) {
      const v = parseLine(text);
      if (!v || v['type'] !== EXPORT_TYPE) batch.push({ malformed: `line 1 is not an Armorer audit export header`, seq: null });
      continue;
    }
    const v = parseLine(text);
    if (v && v['type'] === 'checkpoint') continue;
    if (!v || v['type'] !== 'event') {
      batch.push({ malformed: `line ${lineNo} is not ${v ? 'an event or a checkpoint' : 'valid JSON'} (after seq ${lastSeq})`, seq: lastSeq + 1 });
    } else {
      const item = toStored(v, lineNo);
      batch.push(item);
      if (!('malformed' in item) && Number.isSafeInteger(item.seq)) lastSeq = item.seq;
    }
    if (batch.length === 4096) { yield batch; batch = []; }
  }
  if (batch.length) yield batch;
}

function toStored(v: Record<string, unknown>, lineNo: number): SourceItem {
  const data = v['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { malformed: `line ${lineNo}: data is not a JSON object`, seq: typeof v['seq'] === 'number' ? v['seq'] : null };
  }
  let text: string;
  try {
    text = canonicalJson(data);
  } catch (e) {
    return { malformed: `line ${lineNo}: ${(e as Error).message}`, seq: typeof v['seq'] === 'number' ? v['seq'] : null };
  }
  return {
    seq: v['seq'], time: v['time'], actor: v['actor'], agent: v['agent'], kind: v['kind'], decision: v['decision'] ?? null,
    rule: v['rule'] ?? null, reason: v['reason'] ?? null, data: text, prev_hash: v['prev_hash'], hash: v['hash'],
  } as StoredEvent;
}

function pickCheckpoint(v: Record<string, unknown>): unknown {
  return { seq: v['seq'], hash: v['hash'], time: v['time'], key_id: v['key_id'], signature: v['signature'] };
}

function parseHeader(v: Record<string, unknown>, file: string): NonNullable<ParsedExport['header']> {
  const keys = Array.isArray(v['keys']) ? v['keys'] : [];
  return {
    source: String(v['source'] ?? '?'),
    exported: String(v['exported'] ?? '?'),
    keys: keys.map((k: { public_key?: unknown }, i) => publicKeyFromPem(String(k?.public_key ?? ''), `${file} header key ${i + 1}`)),
  };
}

function parseLine(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function* lines(file: string, fix = 'pass the path of a file written by "armorer logs export --format jsonl"'): AsyncIterable<string> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  // readline's iterator rethrows a read error; this listener only keeps it from also being an
  // unhandled 'error' event.
  stream.on('error', () => {});
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line.length > 0) yield line;
  } catch (e) {
    throw new ArmorerError('ARMORER_E_USAGE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix);
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Checkpoints someone kept apart from the log (`armorer logs checkpoint --json` output, or an export). */
export async function readCheckpointFile(file: string): Promise<unknown[]> {
  const found: unknown[] = [];
  for await (const text of lines(file, 'pass a file written by "armorer logs checkpoint --json" or an export')) {
    const v = parseLine(text);
    if (v && (v['type'] === 'checkpoint' || (v['type'] === undefined && 'signature' in v))) found.push(pickCheckpoint(v));
  }
  if (found.length === 0) {
    throw new ArmorerError('ARMORER_E_USAGE', `${file} holds no checkpoint`, 'pass a file written by "armorer logs checkpoint --json" or an export');
  }
  return found;
}
