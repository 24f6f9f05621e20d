import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { loadYaml } from '../../src/core/yaml.js';
import { classifyAddress } from '../../src/egress/address.js';

/**
 * Lets the install sandbox reach the npm registry on machines where its name resolves to a
 * non-public address. CI machines behind a gateway (this one resolves registry.npmjs.org to
 * 203.0.113.80, a "documentation" address, and forwards it) would otherwise have every install
 * refused by the egress proxy, which connects only to public addresses. For each address of the
 * configured registry host that the proxy calls blocked, `egress.privateUpstreams` in
 * `$home/config.yaml` gets that exact host -> address pair; on a normal machine nothing is added.
 * The registry is the only non-loopback host any test may contact. Returns the pairs added.
 */
export async function writeRegistryConfig(home: string): Promise<{ host: string; address: string }[]> {
  const config = await loadConfig(home);
  const host = new URL(config.install.registry).hostname;
  const answers = await lookup(host, { all: true, verbatim: true });
  const added = answers
    .filter((a) => classifyAddress(a.address).blocked)
    .filter((a) => !config.egress.privateUpstreams.some((u) => u.host === host && u.address === a.address))
    .map((a) => ({ host, address: a.address }));
  if (added.length === 0) return [];
  const file = join(home, 'config.yaml');
  const { parseDocument } = await loadYaml();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // Edited as a document, so the comments `armorer init` wrote stay.
  const doc = parseDocument(text);
  doc.setIn(['egress'], { privateUpstreams: [...config.egress.privateUpstreams, ...added] });
  writeFileSync(file, String(doc), { mode: 0o600 });
  // What the proxy will read must hold what was written: loadConfig refuses anything it dislikes.
  const check = await loadConfig(home);
  for (const a of added) {
    if (!check.egress.privateUpstreams.some((u) => u.host === a.host && u.address === a.address)) {
      throw new Error(`config.yaml in ${home} did not keep ${a.host} -> ${a.address}`);
    }
  }
  return added;
}
