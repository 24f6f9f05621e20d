/**
 * Every enforcement point returns a Decision: data naming the rule that produced it and why, so
 * that the audit log, the terminal and the dashboard can all say what was allowed or blocked.
 */
export type Effect = 'allow' | 'deny' | 'ask';

export interface Decision {
  effect: Effect;
  /** The rule that decided: a scope as written (`net.outbound:*.example.com`) or a built-in rule id. */
  rule: string;
  /** One sentence for a person; names the intent phrase or policy line behind the rule when one exists. */
  reason: string;
}

export const allow = (rule: string, reason: string): Decision => ({ effect: 'allow', rule, reason });
export const deny = (rule: string, reason: string): Decision => ({ effect: 'deny', rule, reason });
export const ask = (rule: string, reason: string): Decision => ({ effect: 'ask', rule, reason });
