/**
 * The scope grammar `<kind>[:<resource>]`: one parser shared by policy files, `--allow` flags and
 * approvals, so the three can never disagree about what a scope means.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { posix } from 'node:path';
import { ArmorerError } from '../core/index.js';

export interface ScopeContext {
  /** The user's home, for `~`. */
  home: string;
  /** Canonical host path of the agent's workspace, for `${workspace}`. */
  workspace: string;
}

export type Scope =
  | { kind: 'files.read' | 'files.write'; path: string }
  | { kind: 'net.outbound'; host: string; port?: number; wildcard: boolean }
  | { kind: 'shell.exec' }
  | { kind: 'secrets.access'; name: string; host?: string }
  | { kind: 'env.pass'; name: string };

export type ScopeKind = Scope['kind'];

export const SCOPE_KINDS: readonly ScopeKind[] = [
  'files.read', 'files.write', 'net.outbound', 'shell.exec', 'secrets.access', 'env.pass',
];

/** Variables the sandbox always sets itself; `env.pass` of one of them replaces Armorer's value. */
export const ENV_ALWAYS_SET = ['PATH', 'HOME', 'LANG', 'TERM', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'];

/** The sandbox provides its own view of these; granting the host's would defeat it. */
const FORBIDDEN_ROOTS = ['/proc', '/sys', '/dev'];

const EXAMPLES: Record<ScopeKind, string> = {
  'files.read': 'files.read:~/notes',
  'files.write': 'files.write:${workspace}/out',
  'net.outbound': 'net.outbound:api.example.com:443',
  'shell.exec': 'shell.exec',
  'secrets.access': 'secrets.access:OPENAI_API_KEY@api.openai.com',
  'env.pass': 'env.pass:NODE_ENV',
};

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_OCTET_RE = /^(?:0|[1-9][0-9]{0,2})$/;

export function parseScope(text: string, ctx: ScopeContext): Scope {
  if (text.length === 0) throw scopeError(text, 'is empty', validKindsFix());
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) {
    throw scopeError(text, 'contains a control character (NUL, newline, tab, ...)',
      'write the scope on one line without control characters');
  }
  if (text !== text.trim()) {
    throw scopeError(text, 'has leading or trailing whitespace', 'remove the surrounding spaces');
  }
  const colon = text.indexOf(':');
  const kindText = colon === -1 ? text : text.slice(0, colon);
  const resource = colon === -1 ? undefined : text.slice(colon + 1);
  const kind = SCOPE_KINDS.find((k) => k === kindText);
  if (!kind) {
    const near = SCOPE_KINDS.find((k) => k.toLowerCase() === kindText.toLowerCase());
    const why = near ? `has kind "${kindText}"; kinds are lowercase` : `has an unknown kind "${kindText}"`;
    throw scopeError(text, why, near ? `write ${near}` : validKindsFix());
  }
  if (kind === 'shell.exec') {
    if (resource !== undefined) {
      throw scopeError(text, 'gives shell.exec a resource, but it takes none', 'write just: shell.exec');
    }
    return { kind };
  }
  if (resource === undefined || resource.length === 0) {
    throw scopeError(text, `is missing the resource after "${kind}:"`, `write e.g. ${EXAMPLES[kind]}`);
  }
  switch (kind) {
    case 'files.read':
    case 'files.write':
      return { kind, path: grantablePath(resource, ctx, text) };
    case 'net.outbound': {
      const { host, port, wildcard } = parseHostPort(resource, text, true);
      return port === undefined ? { kind, host, wildcard } : { kind, host, port, wildcard };
    }
    case 'secrets.access': {
      const at = resource.indexOf('@');
      const name = parseName(at === -1 ? resource : resource.slice(0, at), text, kind);
      if (at === -1) return { kind, name };
      const { host, wildcard } = parseHostPort(resource.slice(at + 1), text, false);
      if (wildcard) {
        throw scopeError(text, 'binds a secret to a wildcard host',
          `bind a secret to one exact host, e.g. ${EXAMPLES[kind]}`);
      }
      return { kind, name, host };
    }
    case 'env.pass':
      return { kind, name: parseName(resource, text, kind) };
  }
}

/** The text form of a scope; `parseScope(formatScope(s))` gives `s` back. */
export function formatScope(s: Scope): string {
  switch (s.kind) {
    case 'files.read':
    case 'files.write':
      return `${s.kind}:${s.path}`;
    case 'net.outbound':
      return `${s.kind}:${s.host}${s.port === undefined ? '' : `:${s.port}`}`;
    case 'shell.exec':
      return s.kind;
    case 'secrets.access':
      return `${s.kind}:${s.name}${s.host === undefined ? '' : `@${s.host}`}`;
    case 'env.pass':
      return `${s.kind}:${s.name}`;
  }
}

/**
 * Expands `~` and `${workspace}`, refuses relative paths, `..` and NUL, and resolves symlinks:
 * the realpath of the nearest existing ancestor plus the components that do not exist yet.
 */
export function canonicalPath(p: string, ctx: ScopeContext): string {
  return canonicalize(p, ctx, `path "${p}"`);
}

/** True when `child` is `parent` or lies under it, compared by whole path components. */
export function pathContains(parent: string, child: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith('/') ? parent : `${parent}/`;
  return child.startsWith(prefix);
}

function grantablePath(resource: string, ctx: ScopeContext, text: string): string {
  const path = canonicalize(resource, ctx, `scope "${text}"`);
  const kind = text.slice(0, text.indexOf(':'));
  if (path === '/') {
    throw new ArmorerError('ARMORER_E_PATH', `scope "${text}" grants the whole filesystem (/)`,
      `grant the directories the agent needs, e.g. ${kind}:~/notes`);
  }
  const root = FORBIDDEN_ROOTS.find((r) => pathContains(r, path));
  if (root) {
    throw new ArmorerError('ARMORER_E_PATH',
      `scope "${text}" grants ${path}, which is under ${root}; the sandbox provides its own ${root}`,
      `remove this grant; grant a directory outside /proc, /sys and /dev, e.g. ${kind}:~/notes`);
  }
  return path;
}

function canonicalize(p: string, ctx: ScopeContext, what: string): string {
  const pathFix = 'write an absolute path, or one starting with ~/ or ${workspace}/, without ".." (e.g. ~/notes)';
  if (p.includes('\0')) throw new ArmorerError('ARMORER_E_PATH', `${what} contains a NUL byte`, pathFix);
  let expanded: string;
  if (p === '~' || p.startsWith('~/')) expanded = ctx.home + p.slice(1);
  else if (p === '${workspace}' || p.startsWith('${workspace}/')) expanded = ctx.workspace + p.slice('${workspace}'.length);
  else if (p.startsWith('~')) {
    throw new ArmorerError('ARMORER_E_PATH', `${what} uses ~user, which is not expanded`, pathFix);
  } else if (p.startsWith('$')) {
    throw new ArmorerError('ARMORER_E_PATH', `${what} uses a variable; only \${workspace} and ~ are expanded`, pathFix);
  } else expanded = p;
  if (!posix.isAbsolute(expanded)) throw new ArmorerError('ARMORER_E_PATH', `${what} is relative`, pathFix);
  if (expanded.split('/').includes('..')) {
    throw new ArmorerError('ARMORER_E_PATH', `${what} contains a ".." component`, pathFix);
  }
  const parts = posix.normalize(expanded).split('/').filter((c) => c.length > 0);
  // Walk up to the nearest ancestor that exists, then re-append what does not exist yet.
  for (let i = parts.length; i >= 0; i--) {
    const candidate = `/${parts.slice(0, i).join('/')}`;
    let exists = true;
    try {
      lstatSync(candidate);
    } catch (e) {
      if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw unresolvable(what, candidate, e);
      exists = false;
    }
    if (!exists) continue;
    let real: string;
    try {
      real = realpathSync.native(candidate);
    } catch (e) {
      // A symlink whose target does not exist: following it later could land anywhere.
      throw unresolvable(what, candidate, e);
    }
    const rest = parts.slice(i);
    return rest.length === 0 ? real : posix.join(real, ...rest);
  }
  return '/';
}

function unresolvable(what: string, at: string, e: unknown): ArmorerError {
  const code = errno(e) ?? 'error';
  const why = code === 'ENOENT' ? 'is a symlink whose target does not exist' : `cannot be resolved (${code})`;
  return new ArmorerError('ARMORER_E_PATH', `${what}: ${at} ${why}`,
    'point the grant at a path whose existing parts can be resolved, or fix the symlink');
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function parseName(name: string, text: string, kind: ScopeKind): string {
  if (!NAME_RE.test(name)) {
    throw scopeError(text, `has the name "${name}", which is not a variable name`,
      `use letters, digits and _, not starting with a digit, e.g. ${EXAMPLES[kind]}`);
  }
  return name;
}

function parseHostPort(input: string, text: string, portAllowed: boolean): {
  host: string; port?: number; wildcard: boolean;
} {
  const fix = portAllowed
    ? 'write a host name and an optional port, e.g. net.outbound:api.example.com:443 or net.outbound:*.example.com'
    : 'write a host name without port, scheme or path, e.g. secrets.access:OPENAI_API_KEY@api.openai.com';
  const bad = (why: string): ArmorerError => scopeError(text, why, fix);
  if (/\s/.test(input)) throw bad('contains whitespace in the host');
  if (input.includes('://')) throw bad('contains a URL scheme; a scope names a host, not a URL');
  if (input.includes('@')) throw bad('contains userinfo (user@); a scope names a host only');
  if (/[/?#]/.test(input)) throw bad('contains a path, query or fragment; a scope names a host only');
  let hostPart: string;
  let portText: string | undefined;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close === -1) throw bad('has an IPv6 address without its closing "]"');
    hostPart = input.slice(0, close + 1);
    const after = input.slice(close + 1);
    if (after.length > 0 && !after.startsWith(':')) throw bad(`has "${after}" after the IPv6 address`);
    if (after.length > 0) portText = after.slice(1);
  } else {
    const parts = input.split(':');
    if (parts.length > 2) throw bad('has an IPv6 address that is not in brackets, or several ports');
    hostPart = parts[0]!;
    portText = parts[1];
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!portAllowed) throw bad('gives a port; a secret is bound to a host');
    if (!/^[1-9][0-9]{0,4}$/.test(portText) || Number(portText) > 65535) {
      throw bad(`has the port "${portText}"; a port is a decimal number from 1 to 65535`);
    }
    port = Number(portText);
  }
  const { host, wildcard } = normaliseHost(hostPart, bad);
  return port === undefined ? { host, wildcard } : { host, port, wildcard };
}

function normaliseHost(raw: string, bad: (why: string) => ArmorerError): { host: string; wildcard: boolean } {
  if (raw.length === 0) throw bad('has no host');
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1);
    if (inner.includes('%') || !isIPv6(inner)) throw bad(`has "${raw}", which is not an IPv6 address`);
    return { host: new URL(`http://${raw}`).hostname, wildcard: false };
  }
  let host = raw.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  const labels = name.split('.');
  const last = labels[labels.length - 1] ?? '';
  // A name whose last label is all digits (or hex) is an attempt at an IP address, never a host name.
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/.test(last)) {
    if (!wildcard && labels.length === 4 && labels.every((l) => IPV4_OCTET_RE.test(l) && Number(l) <= 255)) {
      return { host: name, wildcard: false };
    }
    throw bad(`has "${raw}"; an IPv4 address must be written as four decimal numbers 0-255 (e.g. 192.0.2.1)`);
  }
  if (name.length > 253 || labels.some((l) => !LABEL_RE.test(l))) {
    throw bad(`has the host "${raw}"; labels are 1-63 of a-z, 0-9 and -, not starting or ending with -` +
      (host.includes('*') ? ', and * is allowed only as a leading "*."' : ''));
  }
  if (wildcard && labels.length < 2) {
    throw bad(`has "${raw}", a wildcard over a whole top-level domain`);
  }
  return { host, wildcard };
}

function scopeError(text: string, why: string, fix: string): ArmorerError {
  return new ArmorerError('ARMORER_E_SCOPE', `scope "${text}" ${why}`, fix);
}

function validKindsFix(): string {
  return `a scope is one of: ${SCOPE_KINDS.map((k) => EXAMPLES[k]).join(', ')}`;
}
