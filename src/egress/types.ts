/**
 * Contracts between the egress pieces: request parsing and rules (pure), the proxy (sockets),
 * the credential broker, approvals and the audit sink. Each piece depends only on these.
 */
import type { Decision } from '../policy/decision.js';

/** A net.outbound grant as the proxy applies it. */
export interface EgressRule {
  /** Lowercase, no trailing dot; for a wildcard, the suffix without `*.` (`example.com`). */
  host: string;
  /** `*.example.com`: subdomains only, never the apex. */
  wildcard: boolean;
  /** Ports allowed; a grant without a port allows 443 and 80. */
  ports: number[];
  /** The scope as written, e.g. `net.outbound:*.example.com:443`: the Decision's rule. */
  scope: string;
  /** Why the grant exists (policy `because`, or an intent phrase). */
  because: string;
}

/** Where a sandboxed client asked to go, after strict parsing. */
export interface EgressTarget {
  /** Lowercase, no trailing dot; for an IP literal, its canonical text (`127.0.0.1`, `::1`). */
  host: string;
  port: number;
  /** The request named an address, not a name (in any notation: decimal, hex, octal, IPv6, mapped). */
  ipLiteral: boolean;
}

/** A request the proxy refuses before any decision: malformed or ambiguous. */
export class EgressRequestError extends Error {
  constructor(readonly rule: string, message: string) {
    super(message);
    this.name = 'EgressRequestError';
  }
}

export interface ResolvedAddress { address: string; family: 4 | 6 }
/** DNS on the host; injectable so tests can map names to loopback or return private addresses. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export type ApprovalAnswer = 'once' | 'always' | 'deny';
export interface ApprovalRequest {
  agent: string;
  /** The scope that would allow this, e.g. `net.outbound:api.example.com:443`. */
  scope: string;
  /** What is being asked, in words. */
  summary: string;
}
/** Answers a request outside the policy. Must answer `deny` on timeout or when nobody can answer. */
export interface Approver {
  ask(req: ApprovalRequest, timeoutMs: number): Promise<ApprovalAnswer>;
}

export interface EgressEvent {
  kind: 'egress.connection' | 'egress.denied' | 'egress.alert';
  time: string;
  host: string;
  port: number;
  /** The address the connection was pinned to, once resolved. */
  address?: string;
  method: 'CONNECT' | 'HTTP' | 'BROKER';
  decision: Decision;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}
/** Where events go: the audit store (next issue) or a JSONL file until then. */
export interface EventSink {
  write(event: EgressEvent): void;
}
