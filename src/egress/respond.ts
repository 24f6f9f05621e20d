import { STATUS_CODES } from 'node:http';
import type { Decision } from '../policy/decision.js';
import type { EgressEvent } from './types.js';

/**
 * How every egress refusal looks to a client, from the proxy or the broker alike: the decision in
 * two headers, and a body naming the rule and the reason.
 */
export function denialParts(d: Decision): { headers: Record<string, string>; body: string } {
  const body = `armorer: ${d.effect === 'deny' ? 'blocked' : d.effect} by ${d.rule}: ${d.reason}\n`;
  return {
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'x-armorer-decision': d.effect,
      'x-armorer-rule': d.rule.replace(/[^\x20-\x7e]/g, '?'),
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    },
    body,
  };
}

/** The same refusal as a whole HTTP response, for a raw socket (CONNECT has no ServerResponse). */
export function denialResponse(status: number, d: Decision): string {
  const { headers, body } = denialParts(d);
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n\r\n${body}`;
}

/** One connection's event, timed from `started`. */
export function egressEvent(kind: EgressEvent['kind'], where: { host: string; port: number }, method: EgressEvent['method'],
  decision: Decision, started: number, traffic: { address?: string | undefined; bytesUp?: number; bytesDown?: number } = {}): EgressEvent {
  return {
    kind, time: new Date().toISOString(), host: where.host, port: where.port, method, decision,
    bytesUp: traffic.bytesUp ?? 0, bytesDown: traffic.bytesDown ?? 0, durationMs: Date.now() - started,
    ...(traffic.address !== undefined && { address: traffic.address }),
  };
}
