import type { RowSource, SourceItem } from './backend.js';
import { HASH_RE, hashEvent, ZERO_HASH } from './hash.js';
import { checkSignature, type TrustedKey } from './keys.js';
import type { Checkpoint, ProblemReason, StoredEvent, VerifyProblem, VerifyReport } from './types.js';

/**
 * The reference verifier: reads every event in stored order and checks, for each, that its seq is
 * the next one, that its hash is the hash of its content, and that it links to the previous hash;
 * and, at each checkpoint's seq, that the checkpoint is signed by a trusted key and names that
 * event's hash. A valid checkpoint past the last event means the tail was cut off. It stops at the
 * first problem and then looks around the bad row to say what happened to it.
 */
export async function verifyChain(source: RowSource, rawCheckpoints: unknown[], keys: TrustedKey[]): Promise<VerifyReport> {
  const trusted = new Map(keys.map((k) => [k.id, k]));
  const report = emptyReport(keys);
  const checkpoints: Checkpoint[] = [];
  for (const c of rawCheckpoints) {
    const why = malformedCheckpoint(c);
    if (why) return fail(report, { seq: seqOf(c), reason: 'malformed', detail: `a checkpoint is malformed: ${why}` });
    checkpoints.push(c as Checkpoint);
  }
  checkpoints.sort((a, b) => a.seq - b.seq);

  let expected = 1;
  let prev = ZERO_HASH;
  let cpAt = 0;
  let suspect: { row: StoredEvent; why: 'hash' | 'link' | 'gap' } | null = null;
  outer: for await (const batch of source.batches()) {
    for (const item of batch) {
      if ('malformed' in item) {
        report.problem = { seq: item.seq ?? expected, reason: 'malformed', detail: item.malformed };
        break outer;
      }
      const why = malformedEvent(item);
      if (why) {
        report.problem = { seq: Number.isSafeInteger(item.seq) ? item.seq : expected, reason: 'malformed', detail: `seq ${expected}: ${why}` };
        break outer;
      }
      if (item.seq !== expected) {
        if (item.seq < expected) {
          report.problem = item.seq === expected - 1
            ? { seq: item.seq, reason: 'duplicate', detail: `seq ${item.seq} appears twice` }
            : { seq: item.seq, reason: 'reordered', detail: `seq ${item.seq} appears after seq ${expected - 1}` };
          break outer;
        }
        suspect = { row: item, why: 'gap' };
        break outer;
      }
      if (hashEvent(item) !== item.hash) { suspect = { row: item, why: 'hash' }; break outer; }
      if (item.prev_hash !== prev) { suspect = { row: item, why: 'link' }; break outer; }
      // Checkpoints at this seq (several keys may have signed the same head).
      for (; cpAt < checkpoints.length && checkpoints[cpAt]!.seq <= item.seq; cpAt++) {
        const c = checkpoints[cpAt]!;
        const problem = checkCheckpoint(c, trusted, item.seq === c.seq ? item.hash : null, report);
        if (problem) { report.problem = problem; break outer; }
      }
      report.events++;
      report.firstSeq ??= item.seq;
      report.lastSeq = item.seq;
      report.headHash = item.hash;
      prev = item.hash;
      expected++;
    }
  }
  if (suspect) report.problem = await diagnose(source, suspect.row, suspect.why, expected);
  if (!report.problem) {
    // Checkpoints beyond the end: signed, so the events they cover existed and are gone.
    for (; cpAt < checkpoints.length; cpAt++) {
      const c = checkpoints[cpAt]!;
      const problem = checkCheckpoint(c, trusted, null, report);
      if (problem) { report.problem = problem; break; }
    }
  }
  return finish(report, checkpoints.length);
}

/** A checkpoint at `hashAtSeq` (null: no event at its seq). Counts it when it is right. */
function checkCheckpoint(c: Checkpoint, trusted: ReadonlyMap<string, TrustedKey>, hashAtSeq: string | null, report: VerifyReport): VerifyProblem | null {
  const sig = checkSignature(c, trusted);
  if (sig === 'untrusted-key') {
    return { seq: c.seq, reason: 'untrusted-key', detail: `the checkpoint at seq ${c.seq} is signed by key ${c.key_id}, which is not trusted here` };
  }
  if (sig === 'bad-signature') {
    return { seq: c.seq, reason: 'bad-signature', detail: `the checkpoint at seq ${c.seq} (key ${c.key_id}) has a signature that does not verify: it was altered or forged` };
  }
  if (hashAtSeq === null) {
    const end = report.lastSeq ?? 0;
    return {
      seq: end + 1, reason: 'truncated',
      detail: `the log ends at seq ${end}, but a checkpoint signed at ${c.time} by key ${c.key_id} covers seq ${c.seq}: ` +
        `events ${end + 1}..${c.seq} (at least) were removed`,
    };
  }
  if (hashAtSeq !== c.hash) {
    const from = (report.lastCheckpoint?.seq ?? 0) + 1;
    return {
      seq: c.seq, reason: 'checkpoint-mismatch',
      detail: `the checkpoint signed at ${c.time} for seq ${c.seq} names hash ${c.hash.slice(0, 16)}..., but that event's hash is ` +
        `${hashAtSeq.slice(0, 16)}...: an event in seq ${from}..${c.seq} was changed and the chain recomputed without the signing key`,
    };
  }
  report.checkpoints++;
  report.lastCheckpoint = { seq: c.seq, time: c.time, key_id: c.key_id };
  return null;
}

/** Says what most likely happened to the first bad row, looking at the rows around it. */
async function diagnose(source: RowSource, row: StoredEvent, why: 'hash' | 'link' | 'gap', expected: number): Promise<VerifyProblem> {
  if (why === 'gap') {
    const later = await source.find({ seq: expected });
    return later.length
      ? { seq: expected, reason: 'reordered', detail: `seq ${expected} is out of order: seq ${row.seq} comes before it` }
      : { seq: expected, reason: 'gap', detail: `seq ${expected} is missing (deleted): the next event is seq ${row.seq}` };
  }
  if (why === 'link') {
    if (row.seq === 1) return { seq: 1, reason: 'broken-link', detail: 'seq 1 does not start the chain (its prev_hash is not 64 zeros)' };
    return {
      seq: row.seq - 1, reason: 'edited',
      detail: `seq ${row.seq - 1} was changed and its hash recomputed: seq ${row.seq} still links to its original hash`,
    };
  }
  // Copied from another seq: another row has the same hash and it is right for that row's seq.
  for (const other of await source.find({ hash: row.hash })) {
    if (other.seq !== row.seq && hashEvent({ ...row, seq: other.seq }) === row.hash) {
      return { seq: row.seq, reason: 'duplicate', detail: `seq ${row.seq} is a copy of seq ${other.seq}` };
    }
  }
  // Moved: the hash is right for another seq (its original successor still links to it, or it is nearby).
  const candidates = new Set<number>();
  for (const next of await source.find({ prevHash: row.hash })) candidates.add(next.seq - 1);
  for (let d = 1; d <= 16; d++) { candidates.add(row.seq - d); candidates.add(row.seq + d); }
  for (const seq of candidates) {
    if (seq >= 1 && seq !== row.seq && hashEvent({ ...row, seq }) === row.hash) {
      return { seq: row.seq, reason: 'reordered', detail: `the event stored as seq ${row.seq} was written as seq ${seq}: events were reordered or renumbered` };
    }
  }
  return { seq: row.seq, reason: 'edited', detail: `seq ${row.seq} does not match its hash: its content was changed after it was written` };
}

export function malformedEvent(e: StoredEvent): string | null {
  if (!Number.isSafeInteger(e.seq) || e.seq < 1) return `seq ${String(e.seq)} is not a positive integer`;
  for (const f of ['time', 'actor', 'agent', 'kind', 'data'] as const) if (typeof e[f] !== 'string') return `${f} is not text`;
  for (const f of ['decision', 'rule', 'reason'] as const) if (e[f] !== null && typeof e[f] !== 'string') return `${f} is not text or null`;
  if (typeof e.prev_hash !== 'string' || !HASH_RE.test(e.prev_hash)) return 'prev_hash is not 64 hex digits';
  if (typeof e.hash !== 'string' || !HASH_RE.test(e.hash)) return 'hash is not 64 hex digits';
  return null;
}

export function malformedCheckpoint(c: unknown): string | null {
  if (typeof c !== 'object' || c === null) return 'not an object';
  const x = c as Record<string, unknown>;
  if (!Number.isSafeInteger(x['seq']) || (x['seq'] as number) < 1) return 'seq is not a positive integer';
  if (typeof x['hash'] !== 'string' || !HASH_RE.test(x['hash'])) return 'hash is not 64 hex digits';
  for (const f of ['time', 'key_id', 'signature']) if (typeof x[f] !== 'string') return `${f} is not text`;
  return null;
}

const seqOf = (c: unknown): number => {
  const s = (c as { seq?: unknown } | null)?.seq;
  return typeof s === 'number' && Number.isSafeInteger(s) ? s : 0;
};

export function emptyReport(keys: TrustedKey[]): VerifyReport {
  return {
    ok: false, events: 0, firstSeq: null, lastSeq: null, headHash: null, checkpoints: 0, lastCheckpoint: null, unsigned: 0,
    problem: null, keys: keys.map((k) => `${k.id} (${k.source})`), warnings: [], method: 'sequential',
  };
}

function fail(report: VerifyReport, problem: VerifyProblem): VerifyReport {
  report.problem = problem;
  return finish(report, 0);
}

export function finish(report: VerifyReport, checkpointCount: number): VerifyReport {
  report.ok = report.problem === null;
  report.unsigned = (report.lastSeq ?? 0) - (report.lastCheckpoint?.seq ?? 0);
  if (report.ok && report.keys.length === 0 && checkpointCount === 0 && report.events > 0) {
    report.warnings.push('no public key to check signatures with');
  }
  if (report.ok && report.unsigned > 0) {
    report.warnings.push(report.lastCheckpoint
      ? `${report.unsigned} event(s) after the last checkpoint (seq ${report.lastCheckpoint.seq}) are not covered by a signature: ` +
        'removing them would not be detectable from this log alone'
      : `no checkpoint covers any of the ${report.unsigned} event(s): a rewrite or truncation of the whole log would not be detectable from it alone`);
  }
  return report;
}

/** For arrays of rows (exports, tests): the same verifier over memory. */
export function arraySource(items: SourceItem[]): RowSource {
  const rows = items.filter((i): i is StoredEvent => !('malformed' in i));
  return {
    async *batches() { yield items; },
    async find(w) {
      return rows.filter((r) => (w.hash !== undefined ? r.hash === w.hash : w.prevHash !== undefined ? r.prev_hash === w.prevHash : r.seq === w.seq));
    },
  };
}

export type { ProblemReason };
