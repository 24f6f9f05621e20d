import { lookup } from 'node:dns/promises';
import type { ResolvedAddress, Resolver } from './types.js';

/** The host's resolver (getaddrinfo: /etc/hosts, then DNS). One lookup; the proxy pins its answer. */
export const systemResolver: Resolver = async (host: string): Promise<ResolvedAddress[]> => {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};
