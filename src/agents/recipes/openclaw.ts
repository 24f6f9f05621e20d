import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../core/atomic.js';
import { ArmorerError } from '../../core/errors.js';
import { SANDBOX_HOME } from '../../policy/system-view.js';
import { hardenedOpenClawConfig, OPENCLAW_CHANNELS, OPENCLAW_NODE_RANGE, OPENCLAW_VERSION } from '../openclaw/config.js';
import { gatewayHealth } from '../openclaw/health.js';
import { nodeOf } from './npm.js';
import type { Recipe, RecipeContext } from './types.js';

/** The gateway's port inside the sandbox (OpenClaw's default); published on a free host port. */
const GATEWAY_PORT = 18789;
const STATE_DIR = `${SANDBOX_HOME}/.openclaw`;

/** Model providers the intent catalog knows, as OpenClaw's OpenAI/Anthropic-compatible providers. */
const PROVIDERS: Record<string, { secret: string; api: string; model: string; path: string }> = {
  openai: { secret: 'OPENAI_API_KEY', api: 'openai-completions', model: 'gpt-4o-mini', path: 'v1' },
  openrouter: { secret: 'OPENROUTER_API_KEY', api: 'openai-completions', model: 'openai/gpt-4o-mini', path: 'api/v1' },
  groq: { secret: 'GROQ_API_KEY', api: 'openai-completions', model: 'llama-3.3-70b-versatile', path: 'openai/v1' },
  mistral: { secret: 'MISTRAL_API_KEY', api: 'openai-completions', model: 'mistral-small-latest', path: 'v1' },
  anthropic: { secret: 'ANTHROPIC_API_KEY', api: 'anthropic-messages', model: 'claude-sonnet-4-5', path: '' },
  'google-gemini': { secret: 'GEMINI_API_KEY', api: 'google-generative-ai', model: 'gemini-2.5-flash', path: 'v1beta' },
  deepseek: { secret: 'DEEPSEEK_API_KEY', api: 'openai-completions', model: 'deepseek-chat', path: 'v1' },
  xai: { secret: 'XAI_API_KEY', api: 'openai-completions', model: 'grok-3-mini', path: 'v1' },
};

/** Intent features OpenClaw has a setting for (the rest, like summarise, need none). */
const OPENCLAW_FEATURES = ['schedule', 'cron', 'web-research', 'rss', 'summarise', 'translate'];

function configPath(ctx: RecipeContext): string {
  return join(ctx.paths.home, '.openclaw', 'openclaw.json');
}

/** The gateway token the recipe generated at install (in the agent's own config, 0600). */
export function gatewayToken(ctx: RecipeContext): string {
  try {
    const cfg = JSON.parse(readFileSync(configPath(ctx), 'utf8')) as { gateway?: { auth?: { token?: string } } };
    const token = cfg.gateway?.auth?.token;
    if (typeof token === 'string' && token.length > 0) return token;
  } catch { /* below */ }
  throw new ArmorerError('ARMORER_E_AGENT', `the OpenClaw config of "${ctx.record.name}" has no gateway token`,
    `reinstall the agent (armorer uninstall ${ctx.record.name}; armorer install openclaw ...)`);
}

/** The gateway's environment in the sandbox (besides HOME and the proxy variables every sandbox gets). */
const ENV: Readonly<Record<string, string>> = {
  OPENCLAW_HOME: SANDBOX_HOME,
  OPENCLAW_STATE_DIR: STATE_DIR,
  OPENCLAW_CONFIG_PATH: `${STATE_DIR}/openclaw.json`,
  // OpenClaw restores a config it did not write from its backup unless told the file is managed.
  OPENCLAW_CONFIG_READONLY: '1',
  OPENCLAW_NO_AUTO_UPDATE: '1',
  OPENCLAW_DISABLE_BONJOUR: '1',
  DO_NOT_TRACK: '1',
  // Node 24 fetch honours HTTP(S)_PROXY with this; OpenClaw's own proxy setting covers the rest.
  NODE_USE_ENV_PROXY: '1',
};

export const openclawRecipe: Recipe = {
  id: 'openclaw', packageName: 'openclaw', pinnedVersion: OPENCLAW_VERSION, nodeRange: OPENCLAW_NODE_RANGE,
  // Its postinstall finishes the bundled plugins; without it the read-only prefix refuses to start.
  allowScripts: ['openclaw'], sandboxPort: GATEWAY_PORT,
  configure: async (ctx) => {
    const provider = ctx.record.model ? PROVIDERS[ctx.record.model] : undefined;
    const config = hardenedOpenClawConfig({
      port: GATEWAY_PORT,
      gatewayToken: randomBytes(24).toString('base64url'),
      workspace: ctx.paths.workspace,
      provider: provider ? {
        // Not the built-in id: that would turn on OpenClaw's own provider plugin (see config.ts).
        id: `armorer-${ctx.record.model!}`, api: provider.api, model: provider.model,
        // The brokered endpoint: the host adds the real key; the agent holds a placeholder only.
        baseUrl: `http://127.0.0.1:${ctx.proxyPort}/${provider.secret}/${provider.path}`.replace(/\/$/, ''),
        apiKey: 'armorer-brokered-no-key-here',
      } : null,
      shell: ctx.grants.some((g) => g.scope === 'shell.exec'),
      features: ctx.record.features.filter((f) => OPENCLAW_FEATURES.includes(f)),
      channels: (ctx.record.capabilities ?? []).filter((c) => c in OPENCLAW_CHANNELS),
      proxyPort: ctx.proxyPort,
    });
    const dir = join(ctx.paths.home, '.openclaw');
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    writeFileAtomic(configPath(ctx), `${JSON.stringify(config, null, 2)}\n`);
  },
  validateCommand: (ctx) => ({
    command: [nodeOf(ctx.record), join(ctx.paths.prefix, 'node_modules', 'openclaw', 'openclaw.mjs'), 'config', 'validate'],
    env: { ...ENV },
  }),
  launch: (ctx, args) => ({
    command: [nodeOf(ctx.record), join(ctx.paths.prefix, 'node_modules', 'openclaw', 'openclaw.mjs'),
      ...(args.length > 0 ? args : ['gateway', 'run', '--port', String(GATEWAY_PORT)])],
    env: { ...ENV },
  }),
  health: async (ctx, hostPort) => gatewayHealth(hostPort, gatewayToken(ctx)),
};
