/**
 * The plaintext of `secrets.age`: one JSON document. Kept small and strict so that a file
 * written by hand (and encrypted with `age -r`) is either read exactly or refused.
 */
import { z } from 'zod';
import { SECRET_NAME_RE } from './source.js';

export type InjectMode = 'env' | 'none';

const entrySchema = z.object({
  value: z.string().min(1),
  created: z.string().datetime({ offset: true }),
  updated: z.string().datetime({ offset: true }),
  /** Only `env` is ever written; absent means the value never enters a sandbox. */
  inject: z.literal('env').optional(),
}).strict();

const documentSchema = z.object({
  version: z.literal(1),
  secrets: z.record(z.string().regex(SECRET_NAME_RE), entrySchema),
}).strict();

export type SecretRecord = z.infer<typeof entrySchema>;
/** A Map, not an object: a secret named `constructor` or `__proto__` must stay just a name. */
export type SecretsDocument = Map<string, SecretRecord>;

/** The parsed document, or a one-line reason it is not one. */
export function parseDocument(text: string): { doc: SecretsDocument } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'its plaintext is not JSON' };
  }
  const secrets = (json as { secrets?: unknown } | null)?.secrets;
  if (typeof secrets === 'object' && secrets !== null && Object.hasOwn(secrets, '__proto__')) {
    return { problem: 'its plaintext names a secret "__proto__"' };
  }
  const r = documentSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    // Never quote the offending value: it may be a secret.
    return { problem: `its plaintext does not match the schema at ${i.path.join('.') || '(top)'}: ${i.message}` };
  }
  return { doc: new Map(Object.entries(r.data.secrets)) };
}

export function serializeDocument(doc: SecretsDocument): string {
  const entries = [...doc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // fromEntries defines own properties, so even "__proto__" would serialise as a plain key.
  return `${JSON.stringify({ version: 1, secrets: Object.fromEntries(entries) }, null, 2)}\n`;
}
