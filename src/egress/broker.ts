import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { allow, deny, type Decision } from '../policy/decision.js';
import type { SecretSource } from '../secrets/source.js';
import { guardResolved, type PrivateUpstream } from './address.js';
import { denialParts, egressEvent } from './respond.js';
import type { EventSink, Resolver } from './types.js';

/** A `secrets.access:NAME@host` grant: NAME may be used toward host, and nowhere else. */
export interface Binding { name: string; host: string }

/** How each known API wants its key; anything else gets `Authorization: Bearer`. */
const HEADER_BY_HOST: Record<string, { header: string; prefix: string }> = {
  'api.anthropic.com': { header: 'x-api-key', prefix: '' },
  'generativelanguage.googleapis.com': { header: 'x-goog-api-key', prefix: '' },
};

/** Headers the agent might send with a dummy key: the broker sets the real one, once. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'proxy-authorization', 'cookie'];
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'host'];

export interface BrokerOptions {
  bindings: Binding[];
  secrets: SecretSource;
  resolver: Resolver;
  sink: EventSink;
  allowLoopbackUpstream: boolean;
  privateUpstreams?: readonly PrivateUpstream[];
  /** Extra trust for upstream TLS (tests). Normal verification always applies. */
  upstreamCa?: string;
  /** Upstream port per host (tests); default 443. */
  upstreamPorts?: Record<string, number>;
}

/**
 * The brokered endpoint: inside the sandbox an agent uses `http://127.0.0.1:3128/<NAME>/` as its
 * API base URL, holding no key. The host forwards each request over TLS to the bound host with
 * the real credential added, and streams the answer back. The key never enters the sandbox.
 */
export class Broker {
  constructor(private readonly o: BrokerOptions) {}

  /** Base URL an agent inside the sandbox uses for a binding. */
  static baseUrl(name: string, proxyPort: number): string {
    return `http://127.0.0.1:${proxyPort}/${name}/`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    void this.forward(req, res).catch((e: Error) => this.fail(res, Date.now(), '', deny('broker.error', e.message), 502));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const m = /^\/([A-Za-z_][A-Za-z0-9_]*)(\/.*)?$/.exec(req.url ?? '');
    const binding = m ? this.o.bindings.find((b) => b.name === m[1]) : undefined;
    if (!m || !binding) {
      return this.fail(res, started, '', deny('broker.unbound',
        `no secret binding named by ${JSON.stringify((req.url ?? '').split('/')[1] ?? '')}; use /<NAME>/ for a secrets.access:NAME@host grant`), 404);
    }
    const value = await this.o.secrets.get(binding.name);
    if (value === undefined) {
      return this.fail(res, started, binding.host, deny('broker.secret-missing',
        `the secret ${binding.name} is not set on the host`), 503);
    }
    const guarded = guardResolved(binding.host, await this.o.resolver(binding.host), this.o.allowLoopbackUpstream, this.o.privateUpstreams);
    if ('decision' in guarded) return this.fail(res, started, binding.host, guarded.decision, 403);
    const decision = allow(`secrets.access:${binding.name}@${binding.host}`, `brokered request to ${binding.host} with ${binding.name}`);

    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !CREDENTIAL_HEADERS.includes(k) && !HOP_BY_HOP.includes(k)) headers[k] = v;
    }
    const style = HEADER_BY_HOST[binding.host] ?? { header: 'authorization', prefix: 'Bearer ' };
    headers[style.header] = `${style.prefix}${value}`;
    headers['host'] = binding.host;
    const port = this.o.upstreamPorts?.[binding.host] ?? 443;
    const up = httpsRequest({
      host: guarded.address.address, port, servername: binding.host, method: req.method, path: m[2] ?? '/', headers,
      ...(this.o.upstreamCa !== undefined && { ca: [...(await import('node:tls')).rootCertificates, this.o.upstreamCa] }),
    });
    let bytesUp = 0;
    let bytesDown = 0;
    req.on('data', (c: Buffer) => { bytesUp += c.length; });
    up.on('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.on('data', (c: Buffer) => { bytesDown += c.length; });
      r.pipe(res);
      r.once('end', () => this.event('egress.connection', binding.host, port, decision, started, guarded.address.address, bytesUp, bytesDown));
    });
    up.once('error', (e) => this.fail(res, started, binding.host, deny('broker.upstream', `${binding.host}: ${e.message}`), 502));
    req.pipe(up);
  }

  private fail(res: ServerResponse, started: number, host: string, d: Decision, status: number): void {
    if (!res.headersSent) {
      const { headers, body } = denialParts(d);
      res.writeHead(status, headers).end(body);
    } else {
      res.destroy();
    }
    this.event('egress.denied', host, 443, d, started);
  }

  private event(kind: 'egress.connection' | 'egress.denied', host: string, port: number, decision: Decision, started: number,
    address?: string, bytesUp = 0, bytesDown = 0): void {
    this.o.sink.write(egressEvent(kind, { host, port }, 'BROKER', decision, started, { address, bytesUp, bytesDown }));
  }
}
