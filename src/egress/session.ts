import { createReadStream } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { DenyApprover, TerminalApprover } from '../approvals/terminal.js';
import type { Grant } from '../policy/types.js';
import type { RunOptions } from '../sandbox/bwrap/run.js';
import type { Mount } from '../sandbox/spec.js';
import type { SecretSource } from '../secrets/source.js';
import type { PrivateUpstream } from './address.js';
import { Broker } from './broker.js';
import { prepareCredentials } from './credentials.js';
import { EgressProxy } from './proxy.js';
import { publishPorts, type PublishMapping } from './publish.js';
import { systemResolver } from './resolver.js';
import { rulesFromScopes } from './rules.js';
import type { Approver, EgressEvent, EventSink, Resolver } from './types.js';
import { redactString } from '../secrets/redact/index.js';

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
  /** Where bound secrets come from; default: the age-encrypted store, unlocked only when a grant binds a secret. */
  secrets?: SecretSource;
  proxyPort: number;
  /** Where egress events go; default: an audit store this session opens (and closes). */
  auditSink?: EventSink;
  /** `egress.privateUpstreams` from config.yaml. */
  privateUpstreams?: readonly PrivateUpstream[];
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
  /** The real values of the secrets this run's grants name: what the output redactor must catch. */
  secretValues: { name: string; value: string }[];
  close(): Promise<void>;
}

/** Everything one run's network needs: proxy, approvals, events, published ports. */
export async function startEgress(o: EgressSessionOptions): Promise<EgressSession> {
  // Every decision goes to the audit store: the caller's, or one this session opens and closes.
  const own = o.auditSink ? null : await openOwnAudit(o.armorerHome, o.agent);
  const log = o.auditSink ?? own!.sink;
  const terminal: EventSink = {
    write: (e) => {
      if (e.kind !== 'egress.connection') o.notice(`blocked ${e.method} ${e.host}:${e.port}: ${e.decision.reason} [${e.decision.rule}]`);
    },
  };
  // An agent can put a secret where Armorer records it (a host name it asks for, which the
  // denial's reason repeats): events pass the redactor, with this run's secret values, first.
  // Filled below before the proxy starts, so before any event: the redactor indexes it once, on first use.
  const known: { name: string; value: string }[] = [];
  const redactOpts = { secrets: known };
  const redact = (text: string) => redactString(text, redactOpts);
  const clean = (e: EgressEvent): EgressEvent =>
    ({ ...e, host: redact(e.host), decision: { ...e.decision, reason: redact(e.decision.reason) } });
  const sink: EventSink = { write: (e) => { const c = clean(e); log.write(c); terminal.write(c); } };
  const secretNames = o.grants.flatMap((g) => g.scope.kind === 'secrets.access' ? [g.scope.name] : []);
  let secrets: SecretSource = { get: async () => undefined, names: async () => [] };
  let creds: Awaited<ReturnType<typeof prepareCredentials>>;
  let injected: Record<string, string> = {};
  try {
    // The store is unlocked (and its passphrase asked for) only when a grant names a secret.
    if (o.secrets) secrets = o.secrets;
    else if (secretNames.length > 0) secrets = await (await import('../secrets/index.js')).openSecretSource(o.armorerHome);
    for (const name of new Set(secretNames)) {
      const value = await secrets.get(name);
      if (value !== undefined) known.push({ name, value });
    }
    if (secretNames.length > 0) {
      const { injectedEnv, injectWarning } = await import('../secrets/index.js');
      injected = await injectedEnv(secrets, secretNames);
      for (const name of Object.keys(injected)) o.notice(injectWarning(name));
    }
    creds = await prepareCredentials({
      grants: o.grants, secrets, caDir: join(o.armorerHome, 'keys', 'ca'), proxyPort: o.proxyPort, sink, notice: o.notice,
      ...(o.upstreamCa !== undefined && { upstreamCa: o.upstreamCa }),
    });
  } catch (e) {
    await own?.close();
    throw e;
  }
  const tty = o.approver === undefined && process.stdin.isTTY && process.stderr.isTTY ? createReadStream('/dev/tty') : null;
  const approver = o.approver ?? (tty ? new TerminalApprover(tty, process.stderr) : new DenyApprover());
  const resolver = o.resolver ?? systemResolver;
  const broker = creds.bindings.length === 0 ? undefined : new Broker({
    bindings: creds.bindings, secrets, resolver, sink, allowLoopbackUpstream: o.allowLoopbackUpstream,
    privateUpstreams: o.privateUpstreams ?? [],
    ...(o.upstreamCa !== undefined && { upstreamCa: o.upstreamCa }),
    ...(o.upstreamPorts !== undefined && { upstreamPorts: o.upstreamPorts }),
  });
  const proxy = new EgressProxy({
    agent: o.agent, rules: rulesFromScopes(o.grants), resolver, approver,
    approvalTimeoutMs: o.approvalTimeoutMs ?? 60_000, sink,
    allowLoopbackUpstream: o.allowLoopbackUpstream, maxConnections: 1024, idleTimeoutMs: 300_000,
    privateUpstreams: o.privateUpstreams ?? [],
    ...(broker && { broker }),
    ...(creds.interceptor && { interceptor: creds.interceptor }),
  });
  if (o.allowLoopbackUpstream) {
    o.notice('DANGER: --dangerously-allow-loopback-upstream lets the sandbox reach services on this machine\'s loopback');
  }
  let servers: Server[] = [];
  return {
    proxy,
    env: { ...creds.env, ...injected },
    secretValues: known,
    mounts: creds.mounts,
    runOptions: {
      onConnection: (s) => proxy.handle(s),
      onBridge: async (bridge) => { servers = await publishPorts(o.publish, bridge); },
    },
    close: async () => {
      for (const s of servers) s.close();
      await proxy.close();
      tty?.destroy();
      await own?.close();
    },
  };
}

/** The audit store for a run that brought none: opened here, checkpointed and closed with the session. */
async function openOwnAudit(home: string, agent: string) {
  const { openAuditStore, AuditSink } = await import('../audit/index.js');
  const store = await openAuditStore(home, { actor: 'armorer' });
  const sink = new AuditSink(store, agent);
  return {
    sink,
    close: async () => {
      try {
        await sink.close();
      } finally {
        await store.close();
      }
    },
  };
}

