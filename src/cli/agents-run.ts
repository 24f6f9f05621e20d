import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ArmorerError } from '../core/errors.js';
import type { ResolvedAddress } from '../egress/types.js';
import { withAudit } from './audit-session.js';

const notice = (line: string) => process.stderr.write(`armorer: ${line}\n`);

interface Redirect { host: string; address: string; port: number }

/** `host=127.0.0.1:PORT`: only loopback targets, for fake servers in demos and tests. */
export function parseRedirect(text: string): Redirect {
  const m = /^([a-z0-9.-]+)=(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || isIP(m[2]!.replace(/^\[|\]$/g, '')) === 0 || port < 1 || port > 65535) {
    throw new ArmorerError('ARMORER_E_USAGE', `--dangerously-redirect "${text}" is not HOST=127.0.0.1:PORT`,
      'redirect a granted host to a loopback server, e.g. api.openai.com=127.0.0.1:8443');
  }
  return { host: m[1]!, address: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export async function runAgentCli(home: string, name: string, args: string[], redirects: string[], trustCa: string | undefined): Promise<number> {
  const parsed = redirects.map(parseRedirect);
  if (trustCa !== undefined && parsed.length === 0) {
    throw new ArmorerError('ARMORER_E_USAGE', '--dangerously-trust-ca only applies with --dangerously-redirect', 'add --dangerously-redirect HOST=127.0.0.1:PORT or drop the CA');
  }
  let upstreamCa: string | undefined;
  if (trustCa !== undefined) {
    try {
      upstreamCa = readFileSync(trustCa, 'utf8');
    } catch (e) {
      throw new ArmorerError('ARMORER_E_USAGE', `cannot read ${trustCa}: ${(e as Error).message}`, 'give a PEM file');
    }
  }
  for (const r of parsed) notice(`DANGER: --dangerously-redirect sends ${r.host} to ${r.address}:${r.port} (a local server), not the real host`);
  const { systemResolver } = await import('../egress/resolver.js');
  const resolver = parsed.length === 0 ? undefined
    : async (host: string): Promise<ResolvedAddress[]> => {
      const r = parsed.find((x) => x.host === host);
      return r ? [{ address: r.address, family: isIP(r.address) === 6 ? 6 : 4 }] : systemResolver(host);
    };
  const { runAgent } = await import('../agents/launch.js');
  return withAudit(home, async (audit, store) => {
    const { AuditSink } = await import('../audit/index.js');
    const sink = new AuditSink(store, name);
    await audit(name, 'agent.run.start', { args });
    try {
      const result = await runAgent({
        armorerHome: home, name, args, notice, stdout: process.stdout, stderr: process.stderr,
        egress: {
          auditSink: sink,
          ...(resolver && { resolver, allowLoopbackUpstream: true, upstreamPorts: Object.fromEntries(parsed.map((r) => [r.host, r.port])) }),
          ...(upstreamCa !== undefined && { upstreamCa }),
        },
        onHealth: (h) => {
          for (const c of h.checks) notice(`health ${c.ok ? 'ok' : 'FAILED'}: ${c.name}: ${c.detail}`);
          void audit(name, 'agent.health', { ok: h.ok, checks: h.checks });
        },
      });
      await audit(name, 'agent.run.end', { exitCode: result.exitCode, signal: result.signal ?? null, durationMs: result.durationMs });
      return result.exitCode;
    } catch (e) {
      // A start without an end would read as a run still going: say why it never ran (or broke).
      await audit(name, 'agent.run.failed', { code: (e as { code?: string }).code ?? null, error: (e as Error).message }).catch(() => {});
      throw e;
    } finally {
      await sink.close();
    }
  });
}
