/**
 * net.outbound grants as the proxy applies them, and the one function that decides a target
 * against them: every allow, deny or ask of the egress proxy comes from `decideTarget`.
 */
import { allow, ask, deny, type Decision } from '../policy/decision.js';
import type { Scope } from '../policy/scope.js';
import { canonicalIPv6 } from './address.js';
import { hostPort } from './target.js';
import type { EgressRule, EgressTarget } from './types.js';

/** A grant without a port: https first, then http. */
const DEFAULT_PORTS: readonly number[] = [443, 80];

export interface EgressGrant {
  scope: Scope;
  /** The scope as written; it becomes the Decision's rule. */
  text: string;
  because: string;
}

/** The net.outbound grants among `grants`, in order; other kinds are not the proxy's concern. */
export function rulesFromScopes(grants: EgressGrant[]): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const g of grants) {
    const s = g.scope;
    if (s.kind !== 'net.outbound') continue;
    rules.push({
      host: ruleHost(s.host, s.wildcard, g.text),
      wildcard: s.wildcard,
      ports: s.port === undefined ? [...DEFAULT_PORTS] : [s.port],
      scope: g.text,
      because: g.because,
    });
  }
  return rules;
}

/**
 * allow: a rule names the host (or, by wildcard, a parent of it) and the port.
 * deny: an address not named by a rule, or a named host on a port its rules do not list.
 * ask: a host no rule names; the proxy turns this into an approval, or a deny when nobody answers.
 */
export function decideTarget(target: EgressTarget, rules: EgressRule[]): Decision {
  const where = hostPort(target);
  const named = target.ipLiteral
    // An address only ever matches a rule that names that same address: never a wildcard.
    ? rules.filter((r) => !r.wildcard && r.host === target.host)
    : [
      ...rules.filter((r) => !r.wildcard && r.host === target.host),
      ...rules.filter((r) => r.wildcard && target.host.endsWith(`.${r.host}`)),
    ];
  const allowing = named.find((r) => r.ports.includes(target.port));
  if (allowing) return allow(allowing.scope, `${where} is allowed by ${cite(allowing)}`);
  const first = named[0];
  if (first) {
    const ports = [...new Set(named.flatMap((r) => r.ports))];
    return deny(first.scope,
      `${cite(first)} allows ${target.host} only on ${ports.length === 1 ? 'port' : 'ports'} ` +
      `${ports.join(', ')}, not ${target.port}`);
  }
  if (target.ipLiteral) {
    return deny('egress.ip-literal',
      `${where} names an address, not a host name; addresses must be named in the policy ` +
      `(e.g. ${targetScope(target)}), so a name grant can never be reached by its number`);
  }
  return ask('egress.unlisted', `${where} is not in the policy`);
}

/** The scope that would allow exactly this target: what an approval grants. */
export function targetScope(target: EgressTarget): string {
  return `net.outbound:${hostPort(target)}`;
}

function cite(r: EgressRule): string {
  return `${r.scope} (${r.because})`;
}

/** The scope's host in the form targets use: no `*.`, no brackets, canonical IPv6. */
function ruleHost(host: string, wildcard: boolean, text: string): string {
  if (host.startsWith('[')) {
    const v6 = canonicalIPv6(host.slice(1, -1));
    // parseScope only lets valid IPv6 through; anything else here is a bug, not a policy to guess at.
    if (v6 === null) throw new Error(`net.outbound scope "${text}" has an invalid IPv6 host`);
    return v6;
  }
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return wildcard && h.startsWith('*.') ? h.slice(2) : h;
}
