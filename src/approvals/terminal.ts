import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ApprovalAnswer, ApprovalRequest, Approver } from '../egress/types.js';

/** Nobody can answer (no terminal, a script, CI): everything outside the policy is denied. */
export class DenyApprover implements Approver {
  async ask(): Promise<ApprovalAnswer> {
    return 'deny';
  }
}

/**
 * Asks a person at the terminal, one question at a time (Deno's "Allow? [y/n/A]" shape):
 * allow once / always for this agent / deny. Silence until the timeout means deny. The same
 * scope asked twice while a question is open shares its answer.
 */
export class TerminalApprover implements Approver {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly open = new Map<string, Promise<ApprovalAnswer>>();

  constructor(private readonly input: Readable, private readonly output: Writable) {}

  ask(req: ApprovalRequest, timeoutMs: number): Promise<ApprovalAnswer> {
    const pending = this.open.get(req.scope);
    if (pending) return pending;
    const answer = this.queue.then(() => this.prompt(req, timeoutMs));
    this.queue = answer.catch(() => 'deny');
    this.open.set(req.scope, answer);
    void answer.finally(() => this.open.delete(req.scope));
    return answer;
  }

  private prompt(req: ApprovalRequest, timeoutMs: number): Promise<ApprovalAnswer> {
    return new Promise((resolve) => {
      const rl = createInterface({ input: this.input, output: this.output, terminal: false });
      const seconds = Math.round(timeoutMs / 1000);
      this.output.write(`\narmorer: ${req.agent} wants to ${req.summary}\n` +
        `  grant ${req.scope}?  [o]nce / [a]lways for ${req.agent} / [d]eny  (deny in ${seconds}s): `);
      const finish = (a: ApprovalAnswer, note: string) => {
        clearTimeout(timer);
        rl.close();
        this.output.write(`${note}\n`);
        resolve(a);
      };
      const timer = setTimeout(() => finish('deny', '\narmorer: no answer: denied'), timeoutMs);
      rl.on('line', (line) => {
        const a = line.trim().toLowerCase();
        if (a === 'o' || a === 'once' || a === 'y') finish('once', 'armorer: allowed once');
        else if (a === 'a' || a === 'always') finish('always', `armorer: allowed always for ${req.agent}`);
        else if (a === 'd' || a === 'deny' || a === 'n') finish('deny', 'armorer: denied');
        else this.output.write('  answer o, a or d: ');
      });
      rl.on('close', () => finish('deny', ''));
    });
  }
}
