import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPENCLAW_VERSION, openclawPluginPackages, type OpenClawConfigInput } from '../../src/agents/openclaw/config.js';
import { ArmorerError } from '../../src/core/errors.js';
import { BASE, make, TOKEN } from '../lib/openclaw-config.js';

describe('the hardened OpenClaw config', () => {
  test('keeps the gateway on loopback behind the token, on the given port', () => {
    const c = make();
    assert.equal(c.gateway.mode, 'local');
    assert.equal(c.gateway.bind, 'loopback');
    assert.equal(c.gateway.port, 18789);
    assert.deepEqual(c.gateway.auth, { mode: 'token', token: TOKEN });
    assert.equal(c.gateway.cliAgents.enabled, false);
    assert.deepEqual(c.gateway.http.endpoints, { chatCompletions: { enabled: false }, responses: { enabled: false } });
  });

  test('denies the shell, the exec tool and the operator terminal unless the policy grants shell.exec', () => {
    const without = make({ shell: false });
    assert.ok(without.tools.deny.includes('group:runtime'));
    assert.deepEqual(without.tools.exec, { mode: 'deny' });
    assert.equal(without.gateway.terminal.enabled, false);

    const granted = make({ shell: true });
    assert.ok(!granted.tools.deny.includes('group:runtime'));
    assert.deepEqual(granted.tools.exec, { host: 'gateway', mode: 'full' });
    assert.equal(granted.gateway.terminal.enabled, true);
  });

  test('confines file tools to the workspace and closes the escape hatches', () => {
    const c = make({ shell: true });
    assert.deepEqual(c.tools.fs, { workspaceOnly: true });
    assert.equal(c.agents.defaults.workspace, '/home/agent/workspace');
    assert.deepEqual(c.tools.elevated, { enabled: false });
    assert.equal(c.tools.codeMode, false);
    assert.deepEqual(c.agents.defaults.sandbox, { mode: 'off' });
    for (const tool of ['gateway', 'plugins', 'openclaw', 'browser', 'canvas', 'terminal', 'group:nodes', 'sessions_spawn', 'sessions_send']) {
      assert.ok(c.tools.deny.includes(tool), `${tool} is denied`);
    }
    assert.equal(c.browser.enabled, false);
    assert.equal(c.hooks.enabled, false);
    assert.equal(c.acp.enabled, false);
    assert.equal(c.env.shellEnv.enabled, false);
    assert.deepEqual(c.tools.agentToAgent, { enabled: false });
  });

  test('offers web tools only for web features, and lets the proxy resolve their DNS', () => {
    const none = make();
    assert.ok(none.tools.deny.includes('group:web'));
    assert.deepEqual(none.tools.web, { fetch: { enabled: false }, search: { enabled: false } });

    const rss = make({ features: ['rss'] });
    assert.ok(!rss.tools.deny.includes('group:web'));
    assert.ok(rss.tools.deny.includes('web_search') && rss.tools.deny.includes('x_search'));
    assert.deepEqual(rss.tools.web, { fetch: { enabled: true, useTrustedEnvProxy: true }, search: { enabled: false } });

    const research = make({ features: ['web-research'] });
    assert.ok(!research.tools.deny.some((t: string) => ['group:web', 'web_search', 'web_fetch'].includes(t)));
    assert.deepEqual(research.tools.web.search, { enabled: true });
  });

  test('runs the scheduler only when the intent asks for one', () => {
    const none = make({ features: ['summarise', 'translate'] });
    assert.equal(none.cron.enabled, false);
    assert.ok(none.tools.deny.includes('cron') && none.tools.deny.includes('automations'));
    for (const f of ['schedule', 'cron']) {
      const c = make({ features: [f] });
      assert.equal(c.cron.enabled, true, f);
      assert.ok(!c.tools.deny.includes('cron'), f);
    }
  });

  test('puts every channel behind DM pairing and names its plugin in an allowlist that is never empty', () => {
    const alone = make();
    assert.deepEqual(alone.plugins, { allow: ['memory-core'] }, 'an empty allow list would mean every plugin to OpenClaw');
    assert.equal(alone.channels, undefined);
    assert.ok(alone.tools.deny.includes('message') && alone.tools.deny.includes('conversations_send'));

    const c = make({ channels: ['telegram', 'teams', 'matrix', 'slack', 'msteams'] });
    assert.deepEqual(c.plugins.allow, ['memory-core', 'matrix', 'msteams', 'slack', 'telegram']);
    assert.deepEqual(c.channels.telegram, { enabled: true, dmPolicy: 'pairing', groupPolicy: 'allowlist' });
    assert.deepEqual(c.channels.msteams, { enabled: true, dmPolicy: 'pairing', groupPolicy: 'allowlist' });
    assert.deepEqual(c.channels.matrix, { enabled: true, dm: { policy: 'pairing' }, groupPolicy: 'allowlist' });
    assert.equal(c.session.dmScope, 'per-channel-peer');
    assert.deepEqual(c.tools.alsoAllow, ['message']);
    assert.ok(!c.tools.deny.includes('message'));

    assert.deepEqual(openclawPluginPackages(['telegram', 'teams', 'slack']),
      [`@openclaw/msteams@${OPENCLAW_VERSION}`, `@openclaw/slack@${OPENCLAW_VERSION}`]);
  });

  test('turns off update checks, telemetry, catalog downloads and mDNS, and routes egress through the proxy', () => {
    const c = make({ proxyPort: 3128 });
    assert.deepEqual(c.update, { checkOnStart: false });
    assert.deepEqual(c.telemetry, { enabled: false });
    assert.deepEqual(c.models.catalogRefresh, { enabled: false });
    assert.deepEqual(c.discovery, { mdns: { mode: 'off' } });
    assert.equal(c.gateway.controlUi.automaticallyFetchFavicons, false);
    assert.deepEqual(c.proxy, { proxyUrl: 'http://127.0.0.1:3128', loopbackMode: 'gateway-only' });
    assert.equal(make({ proxyPort: undefined }).proxy, undefined);
  });

  test('points the only model provider at the broker, with the placeholder key', () => {
    const c = make();
    assert.equal(c.models.mode, 'replace');
    assert.deepEqual(c.models.providers, {
      'armorer-openai': {
        baseUrl: 'http://127.0.0.1:3128/OPENAI_API_KEY/v1', apiKey: 'armorer-brokered', api: 'openai-completions',
        models: [{ id: 'gpt-5.4-mini', name: 'gpt-5.4-mini' }],
      },
    });
    assert.deepEqual(c.agents.defaults.model, { primary: 'armorer-openai/gpt-5.4-mini' });
    assert.equal(c.agents.defaults.utilityModel, undefined, 'unset: OpenClaw derives none for an armorer-* provider');

    const none = make({ provider: null });
    assert.deepEqual(none.models.providers, {});
    assert.equal(none.agents.defaults.model, undefined);
  });

  test('is plain JSON and the same for the same input', () => {
    const c = make({ shell: true, features: ['web-research', 'schedule'], channels: ['slack', 'telegram'] });
    assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
    assert.deepEqual(make({ shell: true, features: ['schedule', 'web-research'], channels: ['telegram', 'slack'] }), c);
  });

  test('refuses input it cannot make safe, naming the problem', () => {
    const provider = BASE.provider!;
    const cases: [Partial<OpenClawConfigInput>, RegExp][] = [
      [{ port: 0 }, /not a TCP port/],
      [{ port: 70000 }, /not a TCP port/],
      [{ gatewayToken: 'short' }, /32 to 512/],
      [{ gatewayToken: `${TOKEN} x` }, /32 to 512/],
      [{ gatewayToken: '${OPENCLAW_GATEWAY_TOKEN}0123456789abcdef0123' }, /expands from the environment/],
      [{ workspace: 'workspace' }, /normalised absolute path/],
      [{ workspace: '/home/agent/../root' }, /normalised absolute path/],
      [{ workspace: '/' }, /normalised absolute path/],
      [{ workspace: '/home/agent/ws\nx' }, /control character/],
      [{ provider: { ...provider, id: 'Bad Id' } }, /provider id/],
      [{ provider: { ...provider, id: 'openai' } }, /not armorer-<name>/],
      [{ provider: { ...provider, api: 'openai' } }, /provider api/],
      [{ provider: { ...provider, model: '' } }, /model ""/],
      [{ provider: { ...provider, apiKey: '${OPENAI_API_KEY}' } }, /expands from the environment/],
      [{ provider: { ...provider, baseUrl: 'http://api.openai.com/v1' } }, /plain http to api\.openai\.com/],
      [{ provider: { ...provider, baseUrl: 'https://user:pw@api.example.com/v1' } }, /credentials/],
      [{ provider: { ...provider, baseUrl: 'file:///etc/passwd' } }, /http or https/],
      [{ provider: { ...provider, baseUrl: 'http://127.0.0.1:3128/v1?x=1' } }, /query or fragment/],
      [{ proxyPort: 0 }, /not a TCP port/],
      [{ proxyPort: 3128.5 }, /not a TCP port/],
      [{ features: ['telepathy'] }, /feature "telepathy"/],
      [{ features: ['constructor'] }, /feature "constructor"/],
      [{ channels: ['email'] }, /"email" is not an OpenClaw channel/],
    ];
    for (const [over, message] of cases) {
      assert.throws(() => make(over), (e: unknown) => {
        assert.ok(e instanceof ArmorerError, `${JSON.stringify(over)}: ${String(e)}`);
        assert.equal(e.code, 'ARMORER_E_RECIPE');
        assert.match(e.message, message);
        assert.ok(e.fix.length > 0);
        return true;
      }, JSON.stringify(over));
    }
  });
});
