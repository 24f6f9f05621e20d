/**
 * Where the credential broker reads secret values from. Values stay on the host: only the broker
 * (TLS interception, brokered endpoints) ever holds them, never the sandbox.
 */
import { ArmorerError } from '../core/errors.js';

export interface SecretSource {
  /** The value of `name`, or undefined when it is not set. */
  get(name: string): Promise<string | undefined>;
  /** The names this source can answer, sorted. */
  names(): Promise<string[]>;
}

const PREFIX = 'ARMORER_SECRET_';
/** The same grammar as a `secrets.access:NAME` scope (and an environment variable name). */
export const SECRET_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_RE = SECRET_NAME_RE;

export function assertSecretName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new ArmorerError('ARMORER_E_SECRET', `"${name}" is not a secret name`,
      'use letters, digits and _, not starting with a digit, e.g. OPENAI_API_KEY');
  }
}

/**
 * Reads `ARMORER_SECRET_<NAME>` from an environment object (normally `process.env` of the host
 * process, never the sandbox's). The age-encrypted `SecretStore` (store.ts) is the real source;
 * this one keeps the broker testable without a passphrase.
 * An empty variable counts as unset.
 */
export class EnvSecretSource implements SecretSource {
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    const value = this.env[PREFIX + name];
    return value === undefined || value === '' ? undefined : value;
  }

  async names(): Promise<string[]> {
    return Object.keys(this.env)
      .filter((k) => k.startsWith(PREFIX) && this.env[k] !== undefined && this.env[k] !== '')
      .map((k) => k.slice(PREFIX.length))
      .filter((n) => NAME_RE.test(n))
      .sort();
  }
}
