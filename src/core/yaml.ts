/**
 * The YAML library, loaded on demand (a run without a policy file or settings never pays for it).
 * Bundled, a dynamic import of this CommonJS package yields its exports under `default`; run from
 * source, as named exports: accept both.
 */
export async function loadYaml(): Promise<typeof import('yaml')> {
  const mod = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  return typeof mod.parse === 'function' ? mod : mod.default!;
}
