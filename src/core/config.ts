import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { canonicalIPv6, classifyAddress, neverUpstream } from '../egress/address.js';
import { ArmorerError } from './errors.js';
import { loadYaml } from './yaml.js';

export interface Config {
  sandbox: { backend: 'linux-bwrap'; user: string };
  egress: { privateUpstreams: { host: string; address: string }[] };
  install: { registry: string };
  /** `store`: `sqlite` ($ARMORER_HOME/audit.db) or a postgres:// URL. */
  audit: { store: string; checkpointEvery: number };
  /** `install --assist`: an OpenAI-compatible endpoint that may only pick intent catalog entries. */
  intent: { assist: { endpoint: string; model: string; secret: string | null } | null };
}

export const DEFAULT_CONFIG: Config = {
  sandbox: { backend: 'linux-bwrap', user: 'armorer-sandbox' },
  egress: { privateUpstreams: [] },
  install: { registry: 'https://registry.npmjs.org/' },
  audit: { store: 'sqlite', checkpointEvery: 1000 },
  intent: { assist: null },
};

export const CONFIG_TEMPLATE = `# Armorer configuration. Lines starting with # are comments; edit freely:
# "armorer init" never overwrites this file.
version: 1

sandbox:
  # Which sandbox runs agents. linux-bwrap (bubblewrap + seccomp + cgroups) is the one built so far.
  backend: linux-bwrap
  # When Armorer is started as root, sandboxed processes run as this unprivileged system user
  # (created by "armorer init" if missing). As root, bubblewrap would keep capabilities.
  user: armorer-sandbox

# egress:
#   # A host that resolves to a private or reserved address on purpose (a registry mirror, split
#   # DNS): the proxy lets exactly this name through to exactly this address. Loopback and
#   # link-local (cloud metadata) addresses are never allowed.
#   privateUpstreams:
#     - { host: registry.example.internal, address: 10.1.2.3 }

# install:
#   # Where agents are installed from (the install sandbox may reach only this host).
#   registry: https://registry.npmjs.org/

# audit:
#   # Where the hash-chained audit log lives: sqlite ($ARMORER_HOME/audit.db), or a PostgreSQL
#   # URL that several machines share, e.g. postgres://armorer@db.example.internal/armorer
#   # (keep the password in ~/.pgpass or PGPASSWORD rather than here).
#   store: sqlite
#   # Sign a checkpoint every N events; one is also signed at the end of every run.
#   checkpointEvery: 1000
`;

/** Reads `config.yaml` if there is one; unknown or malformed settings are errors, not ignored. */
export async function loadConfig(home: string): Promise<Config> {
  const file = join(home, 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_CONFIG;
  }
  // The file as `armorer init` wrote it holds exactly the defaults: no need to load a YAML parser.
  if (text === CONFIG_TEMPLATE) return structuredClone(DEFAULT_CONFIG);
  const { parse } = await loadYaml();
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (e) {
    throw new ArmorerError('ARMORER_E_CONFIG', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      'fix the YAML, or move the file away and run "armorer init" to write a fresh one');
  }
  const d = doc as { version?: unknown; sandbox?: { backend?: unknown; user?: unknown }; egress?: unknown; install?: unknown };
  const cfg: Config = structuredClone(DEFAULT_CONFIG);
  if (d.version !== undefined && d.version !== 1) throw bad(file, `version must be 1, not ${String(d.version)}`);
  if (d.sandbox?.backend !== undefined) {
    if (d.sandbox.backend !== 'linux-bwrap') throw bad(file, `sandbox.backend "${String(d.sandbox.backend)}" is not available (only linux-bwrap is built)`);
  }
  if (d.sandbox?.user !== undefined) {
    if (typeof d.sandbox.user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(d.sandbox.user)) {
      throw bad(file, 'sandbox.user must be a system user name');
    }
    cfg.sandbox.user = d.sandbox.user;
  }
  if (d.egress !== undefined) cfg.egress = parseEgress(file, d.egress);
  if (d.install !== undefined) cfg.install = parseInstall(file, d.install);
  if ((doc as { audit?: unknown }).audit !== undefined) cfg.audit = parseAudit(file, (doc as { audit?: unknown }).audit);
  if ((doc as { intent?: unknown }).intent !== undefined) cfg.intent = parseIntent(file, (doc as { intent?: unknown }).intent);
  return cfg;
}


function parseEgress(file: string, v: unknown): Config['egress'] {
  const e = v as { privateUpstreams?: unknown };
  if (typeof v !== 'object' || v === null || Object.keys(v).some((k) => k !== 'privateUpstreams')) {
    throw bad(file, 'egress may only hold privateUpstreams');
  }
  const list = e.privateUpstreams ?? [];
  if (!Array.isArray(list)) throw bad(file, 'egress.privateUpstreams must be a list of {host, address}');
  return {
    privateUpstreams: list.map((u: unknown, i) => {
      const { host, address } = (u ?? {}) as { host?: unknown; address?: unknown };
      if (typeof host !== 'string' || !/^[a-z0-9.-]+$/.test(host) || host.includes('..')) {
        throw bad(file, `egress.privateUpstreams[${i}].host must be a lowercase host name`);
      }
      if (typeof address !== 'string' || isIP(address) === 0) {
        throw bad(file, `egress.privateUpstreams[${i}].address must be one IP address (no ranges)`);
      }
      // Classified, not matched as text: 0:0:0:0:0:0:0:1, fe90::1 or 64:ff9b::a9fe:a9fe are
      // loopback, link-local and metadata too.
      if (neverUpstream(classifyAddress(address))) {
        throw bad(file, `egress.privateUpstreams[${i}].address ${address} is loopback, link-local (cloud metadata) or unspecified: never allowed`);
      }
      const extra = Object.keys(u as object).filter((k) => k !== 'host' && k !== 'address');
      if (extra.length > 0) throw bad(file, `egress.privateUpstreams[${i}] has ${extra.join(', ')}: only host and address are settings`);
      // The proxy compares the text resolvers return: lowercase, shortest IPv6.
      return { host, address: isIP(address) === 6 ? canonicalIPv6(address)! : address };
    }),
  };
}

function parseInstall(file: string, v: unknown): Config['install'] {
  const i = v as { registry?: unknown };
  if (typeof v !== 'object' || v === null || Object.keys(v).some((k) => k !== 'registry')) throw bad(file, 'install may only hold registry');
  if (i.registry === undefined) return structuredClone(DEFAULT_CONFIG.install);
  let url: URL;
  try {
    url = new URL(String(i.registry));
  } catch {
    throw bad(file, `install.registry "${String(i.registry)}" is not a URL`);
  }
  if (url.protocol !== 'https:' || url.username || url.password) {
    throw bad(file, 'install.registry must be an https:// URL without credentials');
  }
  return { registry: url.href.endsWith('/') ? url.href : `${url.href}/` };
}

function parseIntent(file: string, v: unknown): Config['intent'] {
  const a = (v as { assist?: { endpoint?: unknown; model?: unknown; secret?: unknown } } | null)?.assist;
  if (typeof v !== 'object' || v === null || Object.keys(v).some((k) => k !== 'assist') || typeof a !== 'object' || a === null) {
    throw bad(file, 'intent may only hold assist: { endpoint, model, secret }');
  }
  let url: URL;
  try { url = new URL(String(a.endpoint)); } catch { throw bad(file, `intent.assist.endpoint "${String(a.endpoint)}" is not a URL`); }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if ((url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) || url.username || url.password) {
    throw bad(file, 'intent.assist.endpoint must be https:// (or http:// on loopback) without credentials in it');
  }
  if (typeof a.model !== 'string' || !a.model) throw bad(file, 'intent.assist.model must name a model');
  if (a.secret !== undefined && (typeof a.secret !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.secret))) {
    throw bad(file, 'intent.assist.secret must be the name of a secret in the store (e.g. OPENAI_API_KEY)');
  }
  return { assist: { endpoint: url.href.replace(/\/$/, ''), model: a.model, secret: (a.secret as string | undefined) ?? null } };
}

function parseAudit(file: string, v: unknown): Config['audit'] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(file, 'audit must be a mapping (store, checkpointEvery)');
  const out = structuredClone(DEFAULT_CONFIG.audit);
  for (const [key, value] of Object.entries(v)) {
    if (key === 'store') {
      if (typeof value !== 'string' || !(value === 'sqlite' || isPostgresUrl(value))) {
        throw bad(file, 'audit.store must be sqlite or a postgres:// URL (postgres://user@host:5432/database)');
      }
      out.store = value;
    } else if (key === 'checkpointEvery') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 1_000_000) {
        throw bad(file, 'audit.checkpointEvery must be a whole number from 1 to 1000000');
      }
      out.checkpointEvery = value;
    } else {
      throw bad(file, `audit.${key} is not a setting (audit has store and checkpointEvery)`);
    }
  }
  return out;
}

function isPostgresUrl(s: string): boolean {
  if (!/^postgres(ql)?:\/\/[^/?#]/.test(s)) return false;
  try {
    return new URL(s).hostname.length > 0;
  } catch {
    return false;
  }
}

function bad(file: string, why: string): ArmorerError {
  return new ArmorerError('ARMORER_E_CONFIG', `${file}: ${why}`, 'edit config.yaml (see docs/configuration.md)');
}
