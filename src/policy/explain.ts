/**
 * A policy in plain words: what each grant lets the agent do inside the sandbox, and why. Honest
 * about what is only recorded (a secret without a host).
 */
import { formatSize } from '../core/index.js';
import { DEFAULT_LIMITS, type Grant, type Policy, type PolicyLimits } from './types.js';
import { ENV_ALWAYS_SET, formatScope, type Scope } from './scope.js';

export interface ExplainedGrant {
  /** The canonical scope, as formatScope writes it. */
  scope: string;
  /** The scope as the policy or flag wrote it (`~`, `${workspace}` unexpanded). */
  written: string;
  /** What the grant allows in the sandbox, in plain words. */
  allows: string;
  /** False when the grant is recorded but nothing enforces or provides it yet. */
  effective: boolean;
  because: string;
  source: string;
  line?: number;
}

export interface ExplainedLimit {
  name: 'memory' | 'pids' | 'cpus' | 'fileSize' | 'openFiles' | 'timeout';
  value: string;
  origin: 'policy' | 'default';
}

export function explainPolicy(p: Policy): ExplainedGrant[] {
  return p.grants.map((g) => explainGrant(g));
}

export function explainGrant(g: Grant): ExplainedGrant {
  const { allows, effective } = describe(g.scope);
  const explained: ExplainedGrant = {
    scope: formatScope(g.scope), written: g.text, allows, effective, because: g.because, source: g.source,
  };
  if (g.line !== undefined) explained.line = g.line;
  return explained;
}

export function explainLimits(limits: PolicyLimits): ExplainedLimit[] {
  const row = <K extends keyof PolicyLimits>(
    name: ExplainedLimit['name'], key: K, show: (v: number) => string,
  ): ExplainedLimit => {
    const v = limits[key];
    return v === undefined
      ? { name, value: show(DEFAULT_LIMITS[key]), origin: 'default' }
      : { name, value: show(v), origin: 'policy' };
  };
  return [
    row('memory', 'memoryBytes', formatSize),
    row('pids', 'pids', (v) => `${v} processes and threads`),
    row('cpus', 'cpus', (v) => `${v} ${v === 1 ? 'core' : 'cores'}`),
    row('fileSize', 'fileSizeBytes', (v) => `${formatSize(v)} largest file written`),
    row('openFiles', 'openFiles', (v) => `${v} open files`),
    row('timeout', 'timeoutSeconds', (v) => (v === 0 ? 'none' : `${v}s wall clock`)),
  ];
}

export function formatExplanation(p: Policy): string {
  const out: string[] = [];
  out.push(`policy ${p.name ?? '(unnamed)'} from ${p.source}`);
  out.push('grants:');
  const grants = explainPolicy(p);
  if (grants.length === 0) {
    out.push('  (none) the agent sees only system directories, its own install, its workspace and its private home');
  }
  for (const g of grants) {
    const written = g.written === g.scope ? '' : ` (written ${g.written})`;
    out.push(`  ${g.scope}${written}  -> ${g.allows}  \u2014 because: ${g.because}`);
  }
  out.push('limits:');
  for (const l of explainLimits(p.limits)) {
    out.push(`  ${l.name.padEnd(10)} ${l.value}${l.origin === 'default' ? '  (default)' : ''}`);
  }
  out.push('sandbox:');
  out.push(p.sandbox.unixSockets
    ? '  unix sockets: allowed for the agent\'s own IPC (private network namespace, no host sockets mounted)'
    : '  unix sockets: denied (socket(AF_UNIX) fails inside the sandbox)');
  out.push(p.sandbox.writableGit
    ? '  git: WRITABLE (sandbox.writableGit): the agent can commit; hooks and config stay read-only, but a nested\n' +
      '       repository it stages can run code when you later run git on the host (see docs/threat-model.md)'
    : '  git: .git is read-only inside (the agent can read history, not commit)');
  if (p.sandbox.protect.length > 0) {
    out.push(`  also read-only inside every writable grant: ${p.sandbox.protect.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function describe(s: Scope): { allows: string; effective: boolean } {
  switch (s.kind) {
    case 'files.read':
      return { allows: `can read (not write) ${s.path} and everything under it`, effective: true };
    case 'files.write':
      return {
        allows: `can read, create, change and delete files in ${s.path} and everything under it ` +
          '(protected paths such as .git/hooks stay read-only)',
        effective: true,
      };
    case 'net.outbound': {
      const target = s.wildcard
        ? `any subdomain of ${s.host.slice(2)} (not ${s.host.slice(2)} itself)`
        : s.host;
      const port = s.port === undefined ? 'ports 443 and 80' : `port ${s.port}`;
      return {
        allows: `lets connections to ${target} on ${port} through the egress proxy (checked again after DNS: ` +
          'never to a private, loopback or metadata address)',
        effective: true,
      };
    }
    case 'shell.exec':
      return {
        allows: 'lets the agent\'s own shell tool run commands; at the OS level the sandbox can always ' +
          'execute the binaries it can see',
        effective: true,
      };
    case 'secrets.access':
      return s.host === undefined
        ? {
          allows: `names the secret ${s.name} without a host; the credential broker only uses secrets bound to a host ` +
            `(secrets.access:${s.name}@host), so nothing of it reaches the sandbox`,
          effective: false,
        }
        : {
          allows: `lets the agent use ${s.name} on requests to ${s.host} only, without ever holding it: inside it gets a ` +
            `surrogate and a brokered base URL, and the host puts the real value in on the way to ${s.host}`,
          effective: true,
        };
    case 'env.pass':
      return {
        allows: ENV_ALWAYS_SET.includes(s.name)
          ? `passes the host's ${s.name} into the sandbox, if set there, instead of the value Armorer sets`
          : `passes the host's ${s.name} into the sandbox, if it is set on the host`,
        effective: true,
      };
  }
}
