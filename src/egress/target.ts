/**
 * Strict parsing of where a sandboxed client asks the egress proxy to go. Anything that a
 * resolver, a URL parser and the policy could read differently is refused here, so the host the
 * policy decides on is exactly the host the proxy connects to.
 */
import { canonicalIPv6 } from './address.js';
import { EgressRequestError, type EgressTarget } from './types.js';

// The proxy's callers import the IPv6 helpers from here, next to the parser that produces them.
export { embeddedIPv4 } from './address.js';

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT_RE = /^[1-9][0-9]{0,4}$/;
/**
 * A name whose last label is a number is an address to every resolver (inet_aton) and to the
 * WHATWG URL parser, so it is never looked up as a name: it parses as IPv4 or is refused.
 */
const NUMERIC_LABEL_RE = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const HTTP_DEFAULT_PORT = 80;

/** The authority of `CONNECT host:port HTTP/1.1`: `host:port` or `[v6]:port`, port required. */
export function parseConnectTarget(authority: string): EgressTarget {
  checkCharacters(authority, 'the CONNECT target');
  return parseAuthority(authority, 'the CONNECT target', undefined);
}

/**
 * The absolute form of a plain-HTTP proxy request (`GET http://host[:port]/path?q HTTP/1.1`).
 * https goes through CONNECT. A Host header, when sent, must name the same host and port, because
 * the upstream server routes by the header while the policy decided on the URL.
 */
export function parseAbsoluteTarget(
  url: string, hostHeader: string | undefined,
): EgressTarget & { path: string /* origin-form to send upstream */ } {
  checkCharacters(url, 'the request URL');
  if (!/^http:\/\//i.test(url)) {
    const why = /^https:/i.test(url)
      ? 'uses https://; https goes through CONNECT'
      : url.startsWith('/')
        ? 'is not in absolute form (http://host/path); this is a proxy'
        : 'does not start with http://; only plain-HTTP URLs are proxied, https goes through CONNECT';
    throw new EgressRequestError('request.scheme', `the request URL "${url}" ${why}`);
  }
  const rest = url.slice('http://'.length);
  const end = rest.search(/[/?]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  // The upstream gets origin-form: always starting with "/".
  const path = tail.startsWith('/') ? tail : `/${tail}`;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(path)) {
    throw new EgressRequestError('request.non-ascii',
      `the request URL "${url}" has a non-ASCII character in its path; percent-encode it`);
  }
  const target = parseAuthority(authority, 'the request URL', HTTP_DEFAULT_PORT);
  if (hostHeader !== undefined) {
    checkCharacters(hostHeader, 'the Host header');
    if (hostHeader.length === 0) {
      throw new EgressRequestError('request.host-mismatch',
        `the Host header is empty but the request URL names ${hostPort(target)}`);
    }
    const header = parseAuthority(hostHeader, 'the Host header', HTTP_DEFAULT_PORT);
    if (header.host !== target.host || header.port !== target.port) {
      throw new EgressRequestError('request.host-mismatch',
        `the Host header names ${hostPort(header)} but the request URL names ${hostPort(target)}`);
    }
  }
  return { ...target, path };
}

/** `host:port` for messages, with brackets around IPv6. */
export function hostPort(t: { host: string; port: number }): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** Characters refused anywhere in a request target: they split, hide or re-route what follows. */
function checkCharacters(text: string, what: string): void {
  const fail = (rule: string, why: string): EgressRequestError =>
    new EgressRequestError(rule, `${what} ${JSON.stringify(text)} ${why}`);
  if (text.includes('\0')) throw fail('request.nul', 'contains a NUL byte');
  // eslint-disable-next-line no-control-regex
  if (/[\x01-\x1f\x7f]/.test(text)) throw fail('request.control-char', 'contains a control character (CR, LF, tab, ...)');
  if (text.includes(' ')) throw fail('request.whitespace', 'contains a space');
  if (text.includes('\\')) throw fail('request.backslash', 'contains a backslash, which URL parsers read as "/"');
  if (text.includes('#')) throw fail('request.fragment', 'contains a fragment (#), which is never sent to a proxy');
}

/** `host[:port]` or `[v6][:port]`; `defaultPort` undefined means the port is required. */
function parseAuthority(text: string, what: string, defaultPort: number | undefined): EgressTarget {
  const fail = (rule: string, why: string): EgressRequestError =>
    new EgressRequestError(rule, `${what} "${text}" ${why}`);
  if (text.includes('@')) throw fail('request.userinfo', 'contains userinfo (user@host); credentials never go in a proxy request');
  if (text.includes('%')) throw fail('request.percent-encoding', 'has a percent-encoded host; write the host in plain ASCII');
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(text)) {
    throw fail('request.bad-host', 'has a non-ASCII host; send an internationalised name as punycode (xn--...)');
  }
  let hostText: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw fail('request.bad-host', 'has an IPv6 address without its closing "]"');
    hostText = text.slice(0, close + 1);
    const after = text.slice(close + 1);
    if (after.length > 0 && !after.startsWith(':')) throw fail('request.bad-host', `has "${after}" after the IPv6 address`);
    if (after.length > 0) portText = after.slice(1);
  } else {
    const parts = text.split(':');
    if (parts.length > 2) throw fail('request.bad-host', 'has more than one ":"; an IPv6 address must be in brackets');
    hostText = parts[0]!;
    portText = parts[1];
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) throw fail('request.bad-port', 'has no port; CONNECT names host:port');
    port = defaultPort;
  } else {
    if (!PORT_RE.test(portText) || Number(portText) > 65535) {
      throw fail('request.bad-port', `has the port "${portText}"; a port is a decimal number from 1 to 65535 without leading zeros`);
    }
    port = Number(portText);
  }
  const parsed = parseHost(hostText);
  if (typeof parsed === 'string') throw fail('request.bad-host', parsed);
  return { ...parsed, port };
}

/** The normalised host, or why it is refused. */
function parseHost(raw: string): { host: string; ipLiteral: boolean } | string {
  if (raw.length === 0) return 'has no host';
  if (raw.startsWith('[')) {
    const v6 = canonicalIPv6(raw.slice(1, -1));
    return v6 === null ? `has "${raw}", which is not an IPv6 address` : { host: v6, ipLiteral: true };
  }
  let host = raw.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0) return 'has no host';
  const labels = host.split('.');
  if (NUMERIC_LABEL_RE.test(labels[labels.length - 1]!)) {
    const v4 = canonicalIPv4(labels);
    return v4 === null
      ? `has "${raw}", which ends in a number but is not an IPv4 address`
      : { host: v4, ipLiteral: true };
  }
  if (host.length > 253 || !labels.every((l) => LABEL_RE.test(l))) {
    return `has the host "${raw}"; labels are 1-63 of a-z, 0-9 and -, not starting or ending with -`;
  }
  return { host, ipLiteral: false };
}

/**
 * Reads IPv4 the way inet_aton and the WHATWG URL parser do: 1 to 4 parts, each decimal, octal
 * (leading 0) or hex (0x); the last part fills the remaining bytes (`127.1`, `2130706433`).
 * Returns dotted decimal, or null when a resolver would refuse it too.
 */
function canonicalIPv4(parts: string[]): string | null {
  if (parts.length > 4) return null;
  const values: bigint[] = [];
  for (const p of parts) {
    if (/^0x[0-9a-f]*$/.test(p)) values.push(p.length === 2 ? 0n : BigInt(p));
    else if (/^0[0-7]*$/.test(p)) values.push(BigInt(`0o${p.slice(1) || '0'}`));
    else if (/^[1-9][0-9]*$/.test(p)) values.push(BigInt(p));
    else return null;
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255n)) return null;
  if (last >= 1n << BigInt(8 * (4 - values.length))) return null;
  let n = last;
  values.forEach((v, i) => { n += v << BigInt(8 * (3 - i)); });
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}
