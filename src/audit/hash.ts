import { hash as digest } from 'node:crypto';
import { canonicalJson, CanonicalJsonError, jsonString, wellFormed } from '../core/canonical-json.js';
import { ArmorerError } from '../core/errors.js';
import type { AuditEvent, AuditInput, StoredEvent } from './types.js';

/** prev_hash of seq 1. */
export const ZERO_HASH = '0'.repeat(64);
export const HASH_RE = /^[0-9a-f]{64}$/;

const DECISIONS = new Set(['allow', 'deny', 'ask']);
const MAX_NAME = 256;
const MAX_TEXT = 8 * 1024;
const MAX_DATA = 64 * 1024;

/**
 * The canonical JSON (RFC 8785) of an event without its hash, built directly: the keys are fixed
 * and already in code-unit order, `data` is stored as its own canonical text, and every string
 * is quoted as JSON.stringify does (RFC 8785's string form). Equal, byte for byte, to
 * canonicalJson({seq,time,actor,agent,kind,decision,rule,reason,data,prev_hash}) - a unit test
 * holds it to that - and about ten times faster, which the verifier needs.
 */
export function preimage(e: StoredEvent): string {
  const q = jsonString;
  return `{"actor":${q(e.actor)},"agent":${q(e.agent)},"data":${e.data},"decision":${e.decision === null ? 'null' : q(e.decision)},` +
    `"kind":${q(e.kind)},"prev_hash":${q(e.prev_hash)},"reason":${e.reason === null ? 'null' : q(e.reason)},` +
    `"rule":${e.rule === null ? 'null' : q(e.rule)},"seq":${e.seq},"time":${q(e.time)}}`;
}

export function hashEvent(e: StoredEvent): string {
  return digest('sha256', preimage(e), 'hex');
}

let lastMs = -1;
let lastIso = '';
/**
 * The current time in ISO 8601 (ms precision). Formatting a Date costs about a microsecond, as
 * much as the rest of an append's bookkeeping, and a batch of appends mostly shares one ms.
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** An input, checked, with its data in canonical form; seq and the hashes are set when it is chained. */
export type PreparedEvent = StoredEvent;

/** Validates an append; bad input is refused with a coded error, never stored in some converted form. */
export function prepareEvent(input: AuditInput, defaultActor: string, time: string = isoNow()): PreparedEvent {
  if (typeof input !== 'object' || input === null) throw invalid('the event is not an object');
  const actor = input.actor ?? defaultActor;
  name('actor', actor);
  name('agent', input.agent);
  name('kind', input.kind);
  const decision = input.decision ?? null;
  if (decision !== null && !DECISIONS.has(decision)) throw invalid(`decision must be allow, deny, ask or null, not ${JSON.stringify(decision)}`);
  const rule = text('rule', input.rule ?? null);
  const reason = text('reason', input.reason ?? null);
  const raw = input.data ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('data must be a plain object');
  let data: string;
  try {
    data = canonicalJson(raw);
  } catch (e) {
    if (e instanceof CanonicalJsonError) throw invalid(`data is not plain JSON at ${e.message}`);
    throw e;
  }
  if (data.length > MAX_DATA) throw invalid(`data is ${data.length} characters as JSON; the limit is ${MAX_DATA}`);
  return { seq: 0, time, actor, agent: input.agent, kind: input.kind, decision, rule, reason, data, prev_hash: '', hash: '' };
}

/** Puts a prepared event on the chain after `prevHash`, in place (appends are hot: no copies). */
export function chainEvent(e: PreparedEvent, seq: number, prevHash: string): StoredEvent {
  e.seq = seq;
  e.prev_hash = prevHash;
  e.hash = hashEvent(e);
  return e;
}

/** The event a reader sees: `data` parsed. A row whose data is not a JSON object was altered. */
export function toAuditEvent(e: StoredEvent): AuditEvent {
  let data: unknown;
  try {
    data = JSON.parse(e.data);
  } catch {
    data = undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ArmorerError('ARMORER_E_AUDIT', `audit event ${e.seq} has data that is not a JSON object: the log was altered`,
      'run "armorer logs verify" to find the first altered event');
  }
  return { ...e, data: data as Record<string, unknown> };
}

function name(field: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME) {
    throw invalid(`${field} must be a non-empty string of at most ${MAX_NAME} characters`);
  }
  checkString(field, v);
}

function text(field: string, v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw invalid(`${field} must be a string of at most ${MAX_TEXT} characters, or null`);
  checkString(field, v);
  return v;
}

function checkString(field: string, v: string): void {
  if (!wellFormed(v)) throw invalid(`${field} contains a lone UTF-16 surrogate (not valid I-JSON)`);
}

function invalid(why: string): ArmorerError {
  return new ArmorerError('ARMORER_E_AUDIT', `an audit event was refused: ${why}`,
    'this is a bug in the code that recorded the event: report it');
}
