import { createReadStream } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { DenyApprover, TerminalApprover } from '../approvals/terminal.js';
import { fanOut, JsonlSink } from '../audit/jsonl-sink.js';
import type { Grant } from '../policy/types.js';
import type { RunOptions } from '../sandbox/bwrap/run.js';
import { EgressProxy } from './proxy.js';
import { publishPorts, type PublishMapping } from './publish.js';
import { systemResolver } from './resolver.js';
import { rulesFromScopes } from './rules.js';
import type { Approver, EventSink, Resolver } from './types.js';

export interface EgressSessionOptions {
  agent: string;
  grants: Grant[];
  armorerHome: string;
  publish: PublishMapping[];
  allowLoopbackUpstream: boolean;
  approvalTimeoutMs?: number;
  /** Defaults: the terminal when one is attached, else deny; the host resolver. */
  approver?: Approver;
  resolver?: Resolver;
  notice(line: string): void;
}

export interface EgressSession {
  runOptions: NonNullable<RunOptions['egress']>;
  proxy: EgressProxy;
  close(): Promise<void>;
}

/** Everything one run's network needs: proxy, approvals, events, published ports. */
export function startEgress(o: EgressSessionOptions): EgressSession {
  const log = new JsonlSink(join(o.armorerHome, 'egress.jsonl'));
  const terminal: EventSink = {
    write: (e) => {
      if (e.kind !== 'egress.connection') o.notice(`blocked ${e.method} ${e.host}:${e.port}: ${e.decision.reason} [${e.decision.rule}]`);
    },
  };
  const approver = o.approver ?? (process.stdin.isTTY && process.stderr.isTTY
    ? new TerminalApprover(createReadStream('/dev/tty'), process.stderr)
    : new DenyApprover());
  const proxy = new EgressProxy({
    agent: o.agent, rules: rulesFromScopes(o.grants), resolver: o.resolver ?? systemResolver, approver,
    approvalTimeoutMs: o.approvalTimeoutMs ?? 60_000, sink: fanOut(log, terminal),
    allowLoopbackUpstream: o.allowLoopbackUpstream, maxConnections: 1024, idleTimeoutMs: 300_000,
  });
  if (o.allowLoopbackUpstream) {
    o.notice('DANGER: --dangerously-allow-loopback-upstream lets the sandbox reach services on this machine\'s loopback');
  }
  let servers: Server[] = [];
  return {
    proxy,
    runOptions: {
      onConnection: (s) => proxy.handle(s),
      onBridge: async (bridge) => { servers = await publishPorts(o.publish, bridge); },
    },
    close: async () => {
      for (const s of servers) s.close();
      await proxy.close();
      log.close();
    },
  };
}
