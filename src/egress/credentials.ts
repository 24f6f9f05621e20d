import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ArmorerError } from '../core/errors.js';
import { deny } from '../policy/decision.js';
import type { Grant } from '../policy/types.js';
import type { Mount } from '../sandbox/spec.js';
import type { SecretSource } from '../secrets/source.js';
import type { Binding } from './broker.js';
import { ensureCa, type LocalCa } from './ca.js';
import { interceptTunnel } from './intercept.js';
import { egressEvent } from './respond.js';
import { SURROGATE_RULE, SurrogateTable } from './surrogates.js';
import type { EgressTarget, EventSink, ResolvedAddress } from './types.js';

const CA_INSIDE = '/opt/armorer/ca.pem';
const BUNDLE_INSIDE = '/opt/armorer/ca-bundle.pem';
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** What the sandbox gets for its secret bindings: surrogates, trust for the local CA, base URLs. */
export interface SandboxCredentials {
  env: Record<string, string>;
  mounts: Mount[];
  bindings: Binding[];
  interceptor: {
    wants(host: string): boolean;
    tunnel(client: Socket, target: EgressTarget, pinned: ResolvedAddress, done: (up: number, down: number) => void): void;
  } | null;
}

export function bindingsOf(grants: Grant[]): Binding[] {
  return grants.flatMap((g) => g.scope.kind === 'secrets.access' && g.scope.host !== undefined
    ? [{ name: g.scope.name, host: g.scope.host }] : []);
}

/**
 * Prepares mechanism 2 of the broker: each bound secret is represented inside by a random
 * surrogate of the same shape; tunnels to bound hosts (and only those) are terminated with a
 * leaf from the local CA so the host can swap surrogate -> real value on the way out. A missing
 * secret refuses the run: an agent silently holding a useless key would fail in confusing ways.
 */
export async function prepareCredentials(o: {
  grants: Grant[]; secrets: SecretSource; caDir: string; proxyPort: number; sink: EventSink;
  upstreamCa?: string; notice(line: string): void;
}): Promise<SandboxCredentials> {
  const bindings = bindingsOf(o.grants);
  if (bindings.length === 0) return { env: {}, mounts: [], bindings, interceptor: null };
  const values = [];
  for (const b of bindings) {
    const value = await o.secrets.get(b.name);
    if (value === undefined) {
      throw new ArmorerError('ARMORER_E_SECRET', `the secret ${b.name} bound to ${b.host} is not set`,
        `set it: armorer secrets set ${b.name} (or drop secrets.access:${b.name}@${b.host})`);
    }
    values.push({ ...b, value });
  }
  const table = SurrogateTable.create(values);
  const ca = await ensureCa(o.caDir);
  const env: Record<string, string> = { ...table.surrogates(), NODE_EXTRA_CA_CERTS: CA_INSIDE };
  for (const name of ['SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO']) env[name] = BUNDLE_INSIDE;
  for (const b of bindings) env[`ARMORER_BROKER_${b.name}`] = `http://127.0.0.1:${o.proxyPort}/${b.name}/`;
  const system = existsSync(SYSTEM_BUNDLE) ? readFileSync(SYSTEM_BUNDLE, 'utf8') : rootCertificates.join('\n');
  const mounts: Mount[] = [
    { kind: 'data', target: CA_INSIDE, content: ca.certPem, mode: 0o444, why: 'trust Armorer\'s CA for bound hosts' },
    { kind: 'data', target: BUNDLE_INSIDE, content: `${system}\n${ca.certPem}`, mode: 0o444, why: 'system roots plus Armorer\'s CA' },
  ];
  const hosts = new Set(bindings.map((b) => b.host));
  return { env, mounts, bindings, interceptor: interceptorFor(hosts, ca, table, o) };
}

function interceptorFor(hosts: Set<string>, ca: LocalCa, table: SurrogateTable,
  o: { sink: EventSink; upstreamCa?: string; notice(line: string): void }): SandboxCredentials['interceptor'] {
  return {
    wants: (host) => hosts.has(host),
    tunnel: (client, target, pinned, done) => {
      const started = Date.now();
      void interceptTunnel(client, { host: target.host, port: target.port, address: pinned.address }, ca, table, {
        ...(o.upstreamCa !== undefined && { upstreamCa: o.upstreamCa }),
        onEvent: (e) => {
          done(e.bytesUp, e.bytesDown);
          if (e.foreign.length === 0) return;
          const d = deny(SURROGATE_RULE, `the surrogate of ${e.foreign.join(', ')} was sent to ${target.host}, which it is not bound to`);
          o.notice(`ALERT: ${d.reason}; the request was blocked [${d.rule}]`);
          o.sink.write(egressEvent('egress.alert', target, 'CONNECT', d, started,
            { address: pinned.address, bytesUp: e.bytesUp, bytesDown: e.bytesDown }));
        },
      }).catch(() => client.destroy());
    },
  };
}
