import { createServer, isIP, type Server } from 'node:net';
import { ArmorerError } from '../core/errors.js';
import type { Bridge } from './bridge.js';

export interface PublishMapping { hostAddress: '127.0.0.1' | '::1'; hostPort: number; sandboxPort: number; text: string }

/** `127.0.0.1:HOSTPORT:SANDBOXPORT` or `[::1]:HOSTPORT:SANDBOXPORT`: loopback only, by construction. */
export function parsePublish(text: string): PublishMapping {
  const m = /^(127\.0\.0\.1|\[::1\]):(\d{1,5}):(\d{1,5})$/.exec(text);
  const hostPort = Number(m?.[2]);
  const sandboxPort = Number(m?.[3]);
  if (!m || !(hostPort >= 1 && hostPort <= 65535) || !(sandboxPort >= 1 && sandboxPort <= 65535)) {
    throw new ArmorerError('ARMORER_E_PUBLISH', `--publish "${text}" is not 127.0.0.1:HOSTPORT:SANDBOXPORT`,
      'publish on loopback only, e.g. --publish 127.0.0.1:18789:18789; other interfaces are never offered');
  }
  return { hostAddress: m[1] === '[::1]' ? '::1' : '127.0.0.1', hostPort, sandboxPort, text };
}

/**
 * Forwards host loopback ports into the sandbox's network namespace (an agent's gateway or UI).
 * Each host connection gets a fresh connection to 127.0.0.1:SANDBOXPORT inside, opened by the bridge.
 */
export async function publishPorts(mappings: PublishMapping[], bridge: Bridge): Promise<Server[]> {
  const servers: Server[] = [];
  for (const m of mappings) {
    if (isIP(m.hostAddress) === 0) throw new Error('unreachable: parsePublish only yields loopback');
    const server = createServer((client) => {
      client.pause();
      bridge.open(m.sandboxPort).then((inner) => {
        inner.pipe(client).on('error', () => {});
        client.pipe(inner).on('error', () => {});
        inner.resume();
        client.resume();
        const close = () => { client.destroy(); inner.destroy(); };
        inner.once('close', close);
        client.once('close', close);
        inner.once('error', close);
        client.once('error', close);
      }, () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new ArmorerError('ARMORER_E_PUBLISH', `cannot listen on ${m.text}: ${e.message}`,
        'choose a free host port')));
      server.listen(m.hostPort, m.hostAddress, () => resolve());
    });
    servers.push(server);
  }
  return servers;
}
