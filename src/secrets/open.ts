/**
 * What the rest of Armorer uses: the secret source for a run, and the (opt-in) environment
 * injection of real values.
 */
import { requireStore } from './files.js';
import { storePaths, storeState } from './layout.js';
import { resolvePassphrase, type PassphraseOptions } from './passphrase.js';
import { notSet, SecretStore } from './store.js';
import { assertSecretName, type SecretSource } from './source.js';

/** No store yet: nothing is set. A bound secret then fails with "not set" and the fix to set it. */
export class EmptySecretSource implements SecretSource {
  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    return undefined;
  }

  async names(): Promise<string[]> {
    return [];
  }
}

/** One unlock per store per process: the broker and the env injection share it. */
const unlocked = new Map<string, Promise<SecretStore>>();

/**
 * The store under `armorerHome/secrets/`, unlocked (passphrase from ARMORER_PASSPHRASE_FILE,
 * ARMORER_PASSPHRASE or the terminal). Without a store (no identity.age and no secrets.age, as
 * after `armorer init`): an empty source. A half store, a wrong passphrase or a damaged file are
 * errors, never an empty source.
 */
export async function openSecretSource(armorerHome: string, o: PassphraseOptions = {}): Promise<SecretSource> {
  const p = storePaths(armorerHome);
  if (storeState(p) === 'absent') return new EmptySecretSource();
  return openSecretStore(armorerHome, o);
}

/** Like openSecretSource, but a missing store is an error (for commands that need one). */
export async function openSecretStore(armorerHome: string, o: PassphraseOptions = {}): Promise<SecretStore> {
  const key = storePaths(armorerHome).dir;
  let pending = unlocked.get(key);
  if (!pending) {
    // Before asking for a passphrase: there must be something to open.
    requireStore(storePaths(armorerHome));
    pending = resolvePassphrase(o).then(({ passphrase }) => SecretStore.unlock(armorerHome, passphrase));
    unlocked.set(key, pending);
    // A failed unlock is not remembered: the next caller may bring the right passphrase.
    pending.catch(() => unlocked.delete(key));
  }
  return pending;
}

/** Printed whenever a real value is put into a sandbox's environment. */
export function injectWarning(name: string): string {
  return `WARNING: the real value of ${name} is injected into the sandbox environment (inject: env): ` +
    'the agent can read it and send it anywhere its egress allows. Prefer secrets.access:NAME@host, which keeps it on the host.';
}

/**
 * The real values of those `names` whose store entry says `inject: env`, for the sandbox
 * environment. Names set without that opt-in are left out: they stay on the host and reach the
 * agent only as surrogates through the broker. A name that is not set at all is an error.
 * Sources without inject metadata (EnvSecretSource) inject nothing.
 */
export async function injectedEnv(source: SecretSource, names: readonly string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = await source.get(name);
    if (value === undefined) throw notSet(name);
    if (source instanceof SecretStore && source.injectMode(name) === 'env') env[name] = value;
  }
  return env;
}
