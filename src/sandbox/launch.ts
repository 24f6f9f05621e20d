import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { loadConfig } from '../core/config.js';
import type { EgressSessionOptions } from '../egress/session.js';
import type { Grant } from '../policy/types.js';
import type { RunResult } from './bwrap/run.js';
import type { SandboxSpec } from './spec.js';

export interface LaunchRequest {
  spec: SandboxSpec;
  /** Every grant in force (policy + flags): the proxy's rules and secret bindings come from these. */
  grants: Grant[];
  armorerHome: string;
  /** Who the run is for, in events and approvals (`exec` or the agent's name). */
  agent: string;
  notice: (line: string) => void;
  stdout: Writable;
  stderr: Writable;
  stdin?: 'inherit' | 'ignore';
  /** Egress settings beyond the grants: published ports, flags, test injections. */
  egress?: Partial<Omit<EgressSessionOptions, 'agent' | 'grants' | 'armorerHome' | 'proxyPort' | 'notice'>>;
}

/**
 * Starts what a compiled spec needs around it (the egress proxy, broker and published ports when
 * its network mode is `proxy`), runs it under bubblewrap and tears everything down. `armorer exec`,
 * installs and `armorer run` all come through here.
 */
export async function launchSpec(req: LaunchRequest): Promise<RunResult> {
  const config = await loadConfig(req.armorerHome);
  const { runInBwrap } = await import('./bwrap/run.js');
  const egress = req.spec.network.mode === 'proxy'
    ? await (await import('../egress/session.js')).startEgress({
      publish: [], allowLoopbackUpstream: false, privateUpstreams: config.egress.privateUpstreams, ...req.egress,
      agent: req.agent, grants: req.grants, armorerHome: req.armorerHome, notice: req.notice, proxyPort: req.spec.network.proxyPort,
    })
    : null;
  const spec = egress ? { ...req.spec, env: { ...req.spec.env, ...egress.env }, mounts: [...req.spec.mounts, ...egress.mounts] } : req.spec;
  // Everything the sandbox prints passes the redactor: the run's secret values in their common
  // encodings, and provider token patterns, even when split across writes.
  const { createRedactStream } = await import('../secrets/redact/index.js');
  const redact = { secrets: egress?.secretValues ?? [] };
  const out = createRedactStream(redact);
  const err = createRedactStream(redact);
  out.pipe(req.stdout, { end: false });
  err.pipe(req.stderr, { end: false });
  try {
    return await runInBwrap(spec, {
      stateDir: join(req.armorerHome, 'run'), stdout: out, stderr: err, notice: req.notice,
      sandboxUser: config.sandbox.user,
      ...(req.stdin && { stdin: req.stdin }),
      ...(egress && { egress: egress.runOptions }),
    });
  } finally {
    await Promise.all([out, err].map((s) => new Promise<void>((resolve) => { s.once('end', resolve); s.end(); s.resume(); })));
    await egress?.close();
  }
}
