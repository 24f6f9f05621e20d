import { hardenedOpenClawConfig, type OpenClawConfigInput } from '../../src/agents/openclaw/config.js';

/** Inputs and a loosely typed builder shared by the OpenClaw config tests (unit and e2e). */
export const TOKEN = 'tok_0123456789abcdefghijklmnopqrstuvwxyzABCD';
export const BASE: OpenClawConfigInput = {
  port: 18789,
  gatewayToken: TOKEN,
  workspace: '/home/agent/workspace',
  provider: {
    id: 'armorer-openai', baseUrl: 'http://127.0.0.1:3128/OPENAI_API_KEY/v1/', apiKey: 'armorer-brokered',
    api: 'openai-completions', model: 'gpt-5.4-mini',
  },
  shell: false,
  features: [],
  channels: [],
  proxyPort: 3128,
};

/** The generated config, typed loosely enough to walk in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Cfg = Record<string, any>;
export const make = (over: Partial<OpenClawConfigInput> = {}): Cfg => hardenedOpenClawConfig({ ...BASE, ...over }) as Cfg;

