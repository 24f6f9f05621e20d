import { formatSize } from '../core/units.js';
import type { RunResult } from '../sandbox/bwrap/run.js';
import { isSystemMount } from '../policy/system-view.js';
import type { SandboxSpec } from '../sandbox/spec.js';

/** What the sandbox sees, in a few lines, for --verbose. */
export function describeSpec(spec: SandboxSpec): string {
  const lines = [`sandbox linux-bwrap: ${spec.command.join(' ')}`];
  for (const m of spec.mounts) {
    if ((m.kind === 'ro' || m.kind === 'rw') && !isSystemMount(m)) {
      lines.push(`  ${m.kind === 'rw' ? 'read-write' : 'read-only '} ${m.target}  (${m.why})`);
    }
  }
  lines.push(`  protected  ${spec.protectedPaths.length} paths (.git/hooks, .git/config, ...) read-only`);
  const net = spec.network;
  lines.push(net.mode === 'none' ? '  network    none (own empty network namespace)'
    : `  network    only through the egress proxy at 127.0.0.1:${net.proxyPort}: ${net.allowHosts.map((h) => h.port ? `${h.host}:${h.port}` : h.host).join(', ') || 'no host listed (each one asks)'}`);
  const l = spec.limits;
  lines.push(`  limits     memory ${l.memoryBytes ? formatSize(l.memoryBytes) : '-'}, pids ${l.pids ?? '-'}, cpus ${l.cpus ?? '-'}, ` +
    `file size ${l.fileSizeBytes ? formatSize(l.fileSizeBytes) : '-'}, timeout ${l.timeoutSeconds ? `${l.timeoutSeconds}s` : 'none'}`);
  return lines.join('\n');
}

/** Lines explaining how the run ended, when it did not simply succeed. */
export function describeEnd(spec: SandboxSpec, r: RunResult): string[] {
  const out: string[] = [];
  if (r.oomKills > 0) {
    out.push(`the kernel killed ${r.oomKills} process(es) at the ${formatSize(spec.limits.memoryBytes ?? 0)} memory limit`);
  }
  if (r.signal && !r.timedOut) out.push(`the command was ended by ${r.signal}`);
  return out;
}
