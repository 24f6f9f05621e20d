import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArmorerError } from './errors.js';
import { loadYaml } from './yaml.js';

export interface Config {
  sandbox: { backend: 'linux-bwrap'; user: string };
}

export const DEFAULT_CONFIG: Config = { sandbox: { backend: 'linux-bwrap', user: 'armorer-sandbox' } };

export const CONFIG_TEMPLATE = `# Armorer configuration. Lines starting with # are comments; edit freely:
# "armorer init" never overwrites this file.
version: 1

sandbox:
  # Which sandbox runs agents. linux-bwrap (bubblewrap + seccomp + cgroups) is the one built so far.
  backend: linux-bwrap
  # When Armorer is started as root, sandboxed processes run as this unprivileged system user
  # (created by "armorer init" if missing). As root, bubblewrap would keep capabilities.
  user: armorer-sandbox
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
  const d = doc as { version?: unknown; sandbox?: { backend?: unknown; user?: unknown } };
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
  return cfg;
}

function bad(file: string, why: string): ArmorerError {
  return new ArmorerError('ARMORER_E_CONFIG', `${file}: ${why}`, 'edit config.yaml (see docs/configuration.md)');
}
