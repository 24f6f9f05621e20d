/**
 * What kind of address a connection would reach, and which resolved address the proxy may pin a
 * connection to. The check runs on the address DNS returned, right before connecting, so a policy
 * host cannot be pointed (or re-pointed, as in DNS rebinding) at the host, its network or a cloud
 * metadata service.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { deny, type Decision } from '../policy/decision.js';
import type { ResolvedAddress } from './types.js';

export type AddressCategory =
  | 'public' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'multicast' | 'metadata'
  | 'unspecified' | 'reserved' | 'broadcast' | 'documentation' | 'unique-local' | 'site-local'
  | 'nat64' | 'teredo' | '6to4'
  /** Not an IP address at all (e.g. a resolver answer with a zone id): never connected to. */
  | 'invalid';

export interface AddressClass {
  category: AddressCategory;
  /** Only `public` addresses are not blocked. */
  blocked: boolean;
  /** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, ...), when it was classified by it. */
  embeddedIPv4?: string;
}

type Cidr = readonly [prefix: bigint, bits: number, category: AddressCategory];

// Most specific first: the first match wins.
const V4_RANGES: readonly Cidr[] = [
  v4('169.254.169.254', 32, 'metadata'), // AWS, GCP, Azure, OpenStack instance metadata
  v4('100.100.100.200', 32, 'metadata'), // Alibaba Cloud metadata (inside the CGNAT block anyway)
  v4('168.63.129.16', 32, 'metadata'), // Azure WireServer: public space, reachable only inside Azure
  v4('255.255.255.255', 32, 'broadcast'),
  v4('0.0.0.0', 8, 'unspecified'), // Linux connects 0.0.0.0 to the local host
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'cgnat'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'), // IETF protocol assignments
  v4('192.0.2.0', 24, 'documentation'),
  v4('192.88.99.0', 24, 'reserved'), // deprecated 6to4 relay anycast
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'), // benchmarking
  v4('198.51.100.0', 24, 'documentation'),
  v4('203.0.113.0', 24, 'documentation'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

// Ranges that embed an IPv4 address are handled before this table (see `embedding`).
const V6_RANGES: readonly Cidr[] = [
  v6('fd00:ec2::254', 128, 'metadata'), // AWS instance metadata over IPv6
  v6('64:ff9b:1::', 48, 'nat64'), // local-use NAT64: the embedding depends on the local prefix length
  v6('2001::', 32, 'teredo'), // tunnels to an obfuscated IPv4 address; never a real destination
  v6('2001:db8::', 32, 'documentation'),
  v6('3fff::', 20, 'documentation'),
  v6('2001::', 23, 'reserved'), // IETF protocol assignments (benchmarking, ORCHID, ...)
  v6('100::', 64, 'reserved'), // discard-only
  v6('fc00::', 7, 'unique-local'),
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'site-local'),
  v6('ff00::', 8, 'multicast'),
];
const V6_GLOBAL_UNICAST = v6('2000::', 3, 'public');

type EmbeddingKind = 'mapped' | 'compatible' | 'translated' | 'nat64' | '6to4';

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) return classifyIPv4(ip);
  const words = family === 6 ? ipv6Words(ip) : null;
  if (!words) return { category: 'invalid', blocked: true };
  return classifyIPv6(words);
}

/** `egress.privateUpstreams` in config.yaml: this host may resolve to this non-public address. */
export interface PrivateUpstream { host: string; address: string }

/**
 * Addresses no configuration may let a name through to: the host itself, its link (where cloud
 * metadata lives) and the unspecified address, by whatever spelling or embedding reaches them.
 */
export function neverUpstream(c: AddressClass): boolean {
  return c.category === 'loopback' || c.category === 'link-local' || c.category === 'metadata' ||
    c.category === 'unspecified' || c.category === 'invalid';
}

/**
 * Picks the first address the proxy may connect to, so the connection is pinned to an address
 * that was checked (never re-resolved). `allowLoopbackUpstream` is the
 * `--dangerously-allow-loopback-upstream` flag for tests and benchmarks: it lets through 127/8 and
 * ::1 only, never the rest of the host's networks or metadata services.
 */
export function guardResolved(
  host: string, addresses: ResolvedAddress[], allowLoopbackUpstream: boolean,
  privateUpstreams: readonly PrivateUpstream[] = [],
): { address: ResolvedAddress } | { decision: Decision } {
  const refused: string[] = [];
  let first: AddressClass | undefined;
  for (const a of addresses) {
    const c = classifyAddress(a.address);
    if (!c.blocked) return { address: a };
    // Configured by name AND address (egress.privateUpstreams): a mirror or split-horizon DNS.
    if (!neverUpstream(c) && privateUpstreams.some((u) => u.host === host && u.address === a.address)) return { address: a };
    // Only a direct loopback address: ::ffff:127.0.0.1 is loopback too, but the flag names 127/8 and ::1.
    if (allowLoopbackUpstream && c.category === 'loopback' && c.embeddedIPv4 === undefined) return { address: a };
    first ??= c;
    refused.push(`${a.address} (${describe(c)})`);
  }
  if (!first) return { decision: deny('egress.address.none', `${host} resolved to no address`) };
  const flagNote = allowLoopbackUpstream ? '; --dangerously-allow-loopback-upstream allows loopback only' : '';
  return {
    decision: deny(`egress.address.${first.category}`,
      `${host} resolves only to blocked addresses: ${refused.join(', ')}; the proxy connects only to ` +
      `public addresses, checked after DNS and before connecting${flagNote}`),
  };
}

/** The IPv4 address inside an IPv4-mapped, -compatible, -translated, NAT64 (64:ff9b::/96) or 6to4 address. */
export function embeddedIPv4(v6: string): string | null {
  const words = ipv6Words(v6);
  return words ? embedding(words)?.v4 ?? null : null;
}

/** The canonical text of an IPv6 address (as the WHATWG URL parser writes it), or null. */
export function canonicalIPv6(text: string): string | null {
  const words = ipv6Words(text);
  return words ? formatIPv6(words) : null;
}

/** Eight 16-bit words, or null: zone ids (`%eth0`) are refused, as they name an interface. */
export function ipv6Words(text: string): number[] | null {
  if (text.includes('%') || !isIPv6(text)) return null;
  let s = text.toLowerCase();
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return null;
    const o = last.split('.').map(Number) as [number, number, number, number];
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const want = 8 - tail.length;
  const gap = s.indexOf('::');
  let groups: string[];
  if (gap === -1) {
    groups = s.split(':');
    if (groups.length !== want) return null;
  } else {
    if (s.indexOf('::', gap + 1) !== -1) return null;
    const head = s.slice(0, gap) === '' ? [] : s.slice(0, gap).split(':');
    const rest = s.slice(gap + 2) === '' ? [] : s.slice(gap + 2).split(':');
    if (head.length + rest.length > want - 1) return null;
    groups = [...head, ...Array<string>(want - head.length - rest.length).fill('0'), ...rest];
  }
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return [...groups.map((g) => parseInt(g, 16)), ...tail];
}

/** RFC 5952 text without dotted IPv4, the same as `new URL('http://[...]').hostname` gives. */
export function formatIPv6(words: readonly number[]): string {
  let best = -1;
  let bestLen = 1; // a single zero word is never compressed
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    if (j > i) i = j;
  }
  const hex = (ws: readonly number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best === -1) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function classifyIPv4(ip: string): AddressClass {
  const n = ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
  const category = match(n, 32, V4_RANGES) ?? 'public';
  return { category, blocked: category !== 'public' };
}

function classifyIPv6(words: number[]): AddressClass {
  const n = words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
  if (n === 0n) return { category: 'unspecified', blocked: true };
  if (n === 1n) return { category: 'loopback', blocked: true };
  const inner = embedding(words);
  if (inner) {
    const v4c = classifyIPv4(inner.v4);
    // Mapped addresses are the IPv4 address itself on a dual-stack socket; a NAT64 gateway reaches
    // the IPv4 address it embeds (and DNS64 networks return these for every IPv4-only site).
    if (inner.kind === 'mapped' || inner.kind === 'nat64' || v4c.blocked) {
      return { ...v4c, embeddedIPv4: inner.v4 };
    }
    // Deprecated embeddings of a public address: relays and tunnels nobody should need.
    return { category: inner.kind === '6to4' ? '6to4' : 'reserved', blocked: true, embeddedIPv4: inner.v4 };
  }
  const category = match(n, 128, V6_RANGES)
    ?? (match(n, 128, [V6_GLOBAL_UNICAST]) ? 'public' : 'reserved');
  return { category, blocked: category !== 'public' };
}

function embedding(w: readonly number[]): { kind: EmbeddingKind; v4: string } | null {
  const v4 = (hi: number, lo: number): string => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  const zeros = (from: number, to: number): boolean => w.slice(from, to).every((x) => x === 0);
  const [w0, w1, w2, , w4, w5, w6, w7] = w as [number, number, number, number, number, number, number, number];
  if (zeros(0, 5) && w5 === 0xffff) return { kind: 'mapped', v4: v4(w6, w7) };
  if (zeros(0, 4) && w4 === 0xffff && w5 === 0) return { kind: 'translated', v4: v4(w6, w7) };
  // ::/96 minus :: and ::1, which are not IPv4 addresses.
  if (zeros(0, 6) && (w6 !== 0 || w7 > 1)) return { kind: 'compatible', v4: v4(w6, w7) };
  if (w0 === 0x64 && w1 === 0xff9b && zeros(2, 6)) return { kind: 'nat64', v4: v4(w6, w7) };
  if (w0 === 0x2002) return { kind: '6to4', v4: v4(w1, w2) };
  return null;
}

function match(n: bigint, width: number, ranges: readonly Cidr[]): AddressCategory | undefined {
  for (const [prefix, bits, category] of ranges) {
    const shift = BigInt(width - bits);
    if (n >> shift === prefix >> shift) return category;
  }
  return undefined;
}

function describe(c: AddressClass): string {
  return c.embeddedIPv4 === undefined ? c.category : `${c.category}, embeds ${c.embeddedIPv4}`;
}

function v4(text: string, bits: number, category: AddressCategory): Cidr {
  return [text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n), bits, category];
}

function v6(text: string, bits: number, category: AddressCategory): Cidr {
  const words = ipv6Words(text);
  if (!words) throw new Error(`bad IPv6 range ${text}`);
  return [words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n), bits, category];
}
