import { ArmorerError } from '../core/errors.js';
import type { AuditEvent, VerifyReport } from './types.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** `--since`: an ISO 8601 date or time, or a duration back from `now` (`90s`, `10m`, `2h`, `1d`). */
export function parseSince(text: string, now: Date = new Date()): string {
  const d = /^(\d{1,9})([smhd])$/.exec(text);
  if (d) return new Date(now.getTime() - Number(d[1]) * UNITS[d[2]!]!).toISOString();
  const t = Date.parse(text);
  if (ISO.test(text) && Number.isFinite(t)) return new Date(t).toISOString();
  throw new ArmorerError('ARMORER_E_USAGE', `--since "${text}" is neither a time nor a duration`,
    'use an ISO time (2025-06-01, 2025-06-01T12:00:00Z) or a duration back from now: 90s, 10m, 2h, 1d');
}

/**
 * Event fields come from agents (host names, paths, reasons quoting them): control characters
 * are shown escaped, so nothing in the log can move the cursor or recolour a terminal.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One readable line: time, seq, agent, kind, decision, rule, reason. */
export function formatEvent(e: AuditEvent): string {
  const cols = [e.time, `#${e.seq}`, e.agent, e.kind, e.decision ?? '-', e.rule ?? '-'];
  return `${cols.map(printable).join('  ')}${e.reason ? `  ${printable(e.reason)}` : ''}`;
}

export function formatReport(r: VerifyReport, what: string): string {
  const out: string[] = [];
  if (r.ok) {
    out.push(`${what}: OK: ${r.events} event(s)${r.events ? ` (seq ${r.firstSeq}..${r.lastSeq})` : ''}, every hash and link recomputed; ` +
      `${r.checkpoints} checkpoint signature(s) valid${r.lastCheckpoint ? `, the last at seq ${r.lastCheckpoint.seq} (${r.lastCheckpoint.time})` : ''}`);
  } else {
    const p = r.problem!;
    out.push(`${what}: FAILED at seq ${p.seq}: ${p.reason}`);
    out.push(`  ${printable(p.detail)}`);
    out.push(`  ${r.events} event(s) before it verified${r.lastCheckpoint ? `; the last valid checkpoint is at seq ${r.lastCheckpoint.seq}` : ''}`);
  }
  out.push(`  keys: ${r.keys.length ? r.keys.join(', ') : 'none'}`);
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join('\n');
}
