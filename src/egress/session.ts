import { createReadStream } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { DenyApprover, TerminalApprover } from '../approvals/terminal.js';
import { fanOut, JsonlSink } from '../audit/jsonl-sink.js';
import type { Grant } from '../policy/types.js';
import type { RunOptions } from '../sandbox/bwrap/run.js';
import type { Mount } from '../sandbox/spec.js';
import { EnvSecretSource, type SecretSource } from '../secrets/source.js';
import { Broker } from './broker.js';
import { prepareCredentials } from './credentials.js';
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
  /** Where bound secrets come from (until the encrypted store: ARMORER_SECRET_<NAME> of the host). */
  secrets?: SecretSource;
  proxyPort: number;
  /** Extra trust for upstream TLS (tests with a loopback HTTPS server). */
  upstreamCa?: string;
  /** Upstream port per bound host for the brokered endpoint (tests); default 443. */
  upstreamPorts?: Record<string, number>;
  notice(line: string): void;
}

export interface EgressSession {
  runOptions: NonNullable<RunOptions['egress']>;
  proxy: EgressProxy;
  /** To add to the spec before the run: surrogates, CA trust, broker base URLs. */
  env: Record<string, string>;
  mounts: Mount[];
  close(): Promise<void>;
}

/** Everything one run's network needs: proxy, approvals, events, published ports. */
export async function startEgress(o: EgressSessionOptions): Promise<EgressSession> {
  const log = new JsonlSink(join(o.armorerHome, 'egress.jsonl'));
  const terminal: EventSink = {
    write: (e) => {
      if (e.kind !== 'egress.connection') o.notice(`blocked ${e.method} ${e.host}:${e.port}: ${e.decision.reason} [${e.decision.rule}]`);
    },
  };
  const sink = fanOut(log, terminal);
  const secrets = o.secrets ?? new EnvSecretSource(process.env);
  let creds: Awaited<ReturnType<typeof prepareCredentials>>;
  try {
    creds = await prepareCredentials({
      grants: o.grants, secrets, caDir: join(o.armorerHome, 'keys', 'ca'), proxyPort: o.proxyPort, sink, notice: o.notice,
      ...(o.upstreamCa !== undefined && { upstreamCa: o.upstreamCa }),
    });
  } catch (e) {
    log.close();
    throw e;
  }
  const tty = o.approver === undefined && process.stdin.isTTY && process.stderr.isTTY ? createReadStream('/dev/tty') : null;
  const approver = o.approver ?? (tty ? new TerminalApprover(tty, process.stderr) : new DenyApprover());
  const resolver = o.resolver ?? systemResolver;
  const broker = creds.bindings.length === 0 ? undefined : new Broker({
    bindings: creds.bindings, secrets, resolver, sink, allowLoopbackUpstream: o.allowLoopbackUpstream,
    ...(o.upstreamCa !== undefined && { upstreamCa: o.upstreamCa }),
    ...(o.upstreamPorts !== undefined && { upstreamPorts: o.upstreamPorts }),
  });
  const proxy = new EgressProxy({
    agent: o.agent, rules: rulesFromScopes(o.grants), resolver, approver,
    approvalTimeoutMs: o.approvalTimeoutMs ?? 60_000, sink,
    allowLoopbackUpstream: o.allowLoopbackUpstream, maxConnections: 1024, idleTimeoutMs: 300_000,
    ...(broker && { broker }),
    ...(creds.interceptor && { interceptor: creds.interceptor }),
  });
  if (o.allowLoopbackUpstream) {
    o.notice('DANGER: --dangerously-allow-loopback-upstream lets the sandbox reach services on this machine\'s loopback');
  }
  let servers: Server[] = [];
  return {
    proxy,
    env: creds.env,
    mounts: creds.mounts,
    runOptions: {
      onConnection: (s) => proxy.handle(s),
      onBridge: async (bridge) => { servers = await publishPorts(o.publish, bridge); },
    },
    close: async () => {
      for (const s of servers) s.close();
      await proxy.close();
      tty?.destroy();
      log.close();
    },
  };
}
