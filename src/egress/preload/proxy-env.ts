/**
 * Loaded into every Node process in a sandbox with egress (NODE_OPTIONS=--require). Node's
 * built-in fetch ignores HTTP(S)_PROXY before 22.21 / 24.5 (and after, without
 * NODE_USE_ENV_PROXY=1, which Armorer sets): on those versions, install undici's env-proxy
 * dispatcher as the global one, which Node's fetch shares. Without it, fetch simply has no network.
 */
import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const builtIn = (major === 22 && minor >= 21) || (major === 24 && minor >= 5) || major >= 25;
if (!builtIn && (process.env['HTTPS_PROXY'] || process.env['HTTP_PROXY'])) {
  // undici flags EnvHttpProxyAgent as experimental on every process start: not the agent's concern.
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === 'UNDICI-EHPA') return;
    (emit as (...a: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
  setGlobalDispatcher(new EnvHttpProxyAgent());
  process.emitWarning = emit;
}
