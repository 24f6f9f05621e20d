// Bundles the CLI: one entry and lazily loaded chunks, so a command pays only for what it uses
// and Node resolves a handful of files instead of dozens. Types are checked by tsc separately.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'bundle',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: "import { createRequire as __armorerRequire } from 'node:module'; const require = __armorerRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The env-proxy preload runs inside sandboxes, on whatever Node the agent uses: one CommonJS
// file with undici inside, handed to the sandbox as a read-only data file.
await build({
  entryPoints: { 'preload/proxy-env': 'src/egress/preload/proxy-env.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  outExtension: { '.js': '.cjs' },
  minify: true,
  logLevel: 'warning',
});
chmodSync('dist/cli/main.js', 0o755);
// The intent catalog ships as YAML data beside the code: src/intent/catalog.ts looks for it at
// ../intent/catalog.yaml from dist/cli/ and dist/chunks/ alike.
mkdirSync('dist/intent', { recursive: true });
copyFileSync('src/intent/catalog.yaml', 'dist/intent/catalog.yaml');
