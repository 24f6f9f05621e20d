import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { loadConfig } from '../core/config.js';
import { ArmorerError } from '../core/errors.js';
import { computeManifest, writeManifest } from './integrity.js';
import { sandboxedNpmInstall, sandboxedNpmRebuild } from './npm-install.js';
import { agentPaths, downloadCache } from './paths.js';
import { agentPolicyYaml, type PlannedGrant } from './policy.js';
import { type AgentRecord, type RecipeId, writeRecord } from './record.js';
import { resolveRecipe } from './recipes/index.js';
import { chooseRuntime, enginesOf, registryNode } from './runtime.js';

export interface InstallRequest {
  armorerHome: string;
  /** `openclaw`, `npm:<package>[@version]`, or a name used with `command`. */
  agent: string;
  intent: string;
  scopes: string[];
  version?: string;
  command?: string;
  name?: string;
  model?: string;
  /** `--assist`: let the configured LLM pick catalog entries for words the catalog did not match. */
  assist?: boolean;
}

export interface InstallPlan {
  name: string;
  recipe: RecipeId;
  packageSpec: string | null;
  command?: string[];
  grants: PlannedGrant[];
  notUnderstood: string[];
  negated: { capability: string; phrase: string }[];
  /** Things the intent asked for that need more detail (e.g. which IMAP server). */
  needs: string[];
  features: string[];
  /** Catalog ids of the intent's grants (e.g. openai, telegram): recipes map some to agent settings. */
  capabilities: string[];
  model: string | null;
  networkMisses: 'deny' | 'ask';
  policyYaml: string;
}

export interface InstallIo {
  notice: (line: string) => void;
  /** A step starts; the returned function ends it with a short result (sizes, times). */
  step: (title: string) => (result: string) => void;
  stdout: Writable;
  stderr: Writable;
  audit: (kind: string, data: Record<string, unknown>) => Promise<void>;
}

/**
 * Limits written into every agent policy (the user can edit them). No `cpus`: a limit a policy
 * states never degrades, and a CPU quota needs a cgroup, so it would stop every run of a user
 * without one; the default (2 cores, or fewer on a smaller machine) still applies, loudly degraded.
 */
const AGENT_LIMITS = { memory: '2G', pids: 512 };

/** Intent -> grants -> policy, without touching the disk: what `--dry-run` and the confirmation show. */
export async function planInstall(req: InstallRequest): Promise<InstallPlan> {
  const resolved = recipeOf(req);
  const { loadCatalog, deriveIntent } = await import('../intent/index.js');
  const catalog = await loadCatalog(req.armorerHome);
  const deriveOpts = req.model !== undefined ? { model: req.model } : {};
  const derived = req.assist ? await assisted(req, catalog, deriveOpts) : deriveIntent(req.intent, catalog, deriveOpts);
  const { parseScope } = await import('../policy/scope.js');
  const grants: PlannedGrant[] = derived.grants.map((g) => ({ scope: g.scope, because: g.because, origin: 'intent' as const, reason: g.reason }));
  for (const s of req.scopes) {
    parseScope(s, { home: '/nonexistent', workspace: '/nonexistent' }); // grammar check now, with its coded error
    if (!grants.some((g) => g.scope === s)) grants.push({ scope: s, because: '--scope', origin: 'flag', reason: 'given on the command line' });
  }
  const policyYaml = await agentPolicyYaml({ name: resolved.name, intent: req.intent }, grants, AGENT_LIMITS);
  // What is shown is what loads: validate the generated document with the real loader.
  const { parsePolicy } = await import('../policy/load.js');
  const { homedir } = await import('node:os');
  parsePolicy(policyYaml, `policy of ${resolved.name}`, { home: homedir(), workspace: '/nonexistent' });
  return {
    name: resolved.name, recipe: resolved.recipe.id, packageSpec: resolved.packageSpec,
    ...(resolved.command && { command: resolved.command }),
    grants, notUnderstood: derived.notUnderstood, negated: derived.negated, needs: derived.needs,
    features: (derived.features ?? []).map((f) => f.capability),
    capabilities: [...new Set(derived.grants.map((g) => g.capability))],
    model: derived.model.provider, networkMisses: derived.networkMisses, policyYaml,
  };
}

/**
 * Installs the plan: a private agent directory, npm inside the sandbox (registry only), a Node that
 * fits the agent, its config hardened for the grants and checked by the agent's own validator,
 * and a record of every installed file. A failure removes everything it made.
 */
export async function performInstall(req: InstallRequest, plan: InstallPlan, io: InstallIo): Promise<AgentRecord> {
  const paths = agentPaths(req.armorerHome, plan.name);
  if (existsSync(paths.dir)) {
    throw new ArmorerError('ARMORER_E_AGENT', `an agent named "${plan.name}" already exists`,
      `pick another name with --name, or remove it first: armorer uninstall ${plan.name}`);
  }
  const resolved = recipeOf(req);
  const recipe = resolved.recipe;
  const config = await loadConfig(req.armorerHome);
  mkdirSync(join(req.armorerHome, 'agents'), { recursive: true, mode: 0o700 });
  mkdirSync(paths.dir, { mode: 0o700 });
  try {
    for (const d of [paths.prefix, paths.home, paths.workspace]) mkdirSync(d, { mode: 0o700 });
    await io.audit('agent.install.start', { recipe: plan.recipe, package: plan.packageSpec, intent: req.intent, grants: plan.grants });
    const rec: AgentRecord = {
      version: 1, name: plan.name, recipe: plan.recipe, intent: req.intent, model: plan.model,
      installedAt: new Date().toISOString(), features: plan.features, capabilities: plan.capabilities,
      ...(plan.command && { command: plan.command }),
    };
    const npm = { armorerHome: req.armorerHome, paths, registry: config.install.registry, cache: downloadCache(req.armorerHome),
      notice: io.notice, stdout: io.stdout, stderr: io.stderr };
    if (plan.packageSpec && recipe.packageName) {
      const end = io.step(`installing ${plan.packageSpec} in the sandbox (network: ${new URL(config.install.registry).hostname} only)`);
      const t0 = Date.now();
      // A recipe that knows its pinned version's Node range gets the runtime in the same npm run.
      const known = recipe.nodeRange && plan.packageSpec === `${recipe.packageName}@${recipe.pinnedVersion}` ? chooseRuntime(recipe.nodeRange) : null;
      const extra = known?.kind === 'registry' ? [known.spec] : [];
      await sandboxedNpmInstall({ ...npm, packages: [plan.packageSpec, ...extra], allowScripts: [] });
      const version = (JSON.parse(readFileSync(join(paths.prefix, 'node_modules', recipe.packageName, 'package.json'), 'utf8')) as { version: string }).version;
      rec.package = { name: recipe.packageName, version };
      end(`${recipe.packageName}@${version}${extra.length ? ` and ${extra.join(', ')}` : ''} in ${seconds(t0)}`);

      const range = enginesOf(paths.prefix, recipe.packageName);
      const choice = chooseRuntime(range);
      if (choice.kind === 'host') {
        rec.node = { source: 'host', version: choice.version, path: choice.path };
      } else if (extra.includes(choice.spec)) {
        const node = registryNode(paths.prefix, range!);
        rec.node = { source: 'registry', version: node.version, path: node.path };
        io.notice(`the agent needs Node ${range}; this host has ${process.version}: using Node ${node.version} from ${choice.spec}`);
      } else {
        const endNode = io.step(`the agent needs Node ${range}; this host has ${process.version}: installing ${choice.spec} from the registry`);
        const t1 = Date.now();
        await sandboxedNpmInstall({ ...npm, packages: [choice.spec], allowScripts: [] });
        const node = registryNode(paths.prefix, range!);
        rec.node = { source: 'registry', version: node.version, path: node.path };
        endNode(`Node ${node.version} in ${seconds(t1)}`);
      }
    }
    if (recipe.allowScripts.length > 0) {
      const endScripts = io.step(`running the install scripts the recipe allows, in the sandbox: ${recipe.allowScripts.join(', ')}`);
      const t3 = Date.now();
      await sandboxedNpmRebuild({ ...npm, allowScripts: recipe.allowScripts }, rec.node?.source === 'registry' ? dirname(rec.node.path) : null);
      endScripts(`done in ${seconds(t3)}`);
    }
    if (recipe.sandboxPort !== null) rec.ports = { sandbox: recipe.sandboxPort, host: await freeLoopbackPort() };

    const { agentContext, validateInSandbox } = await import('./launch.js');
    const ctx = agentContext(req.armorerHome, rec, plan.grants, io.notice);
    const endCfg = io.step('writing the agent\'s own configuration, hardened for the grants');
    await recipe.configure(ctx);
    endCfg('done');
    const check = recipe.validateCommand?.(ctx);
    if (check) {
      const endVal = io.step('checking the configuration with the agent\'s own validator (in the sandbox)');
      const t2 = Date.now();
      await validateInSandbox(ctx, plan.policyYaml, check, io);
      endVal(`accepted in ${seconds(t2)}`);
    }
    const endInt = io.step('recording what was installed (sha256 of every file)');
    const manifest = computeManifest(paths.prefix);
    writeManifest(paths.integrity, manifest);
    endInt(`${manifest.files} files, ${(manifest.bytes / 1024 ** 2).toFixed(1)} MiB, digest ${manifest.digest.slice(0, 16)}`);
    const { writeFileAtomic } = await import('../core/atomic.js');
    writeFileAtomic(paths.policy, plan.policyYaml);
    writeRecord(req.armorerHome, rec);
    await io.audit('agent.install.done', { package: rec.package ?? null, node: rec.node ?? null, digest: manifest.digest, files: manifest.files });
    return rec;
  } catch (e) {
    rmSync(paths.dir, { recursive: true, force: true });
    await io.audit('agent.install.failed', { error: (e as Error).message }).catch(() => {});
    throw e;
  }
}

function recipeOf(req: InstallRequest) {
  return resolveRecipe(req.agent, {
    ...(req.version !== undefined && { version: req.version }),
    ...(req.command !== undefined && { command: req.command }),
    ...(req.name !== undefined && { name: req.name }),
  });
}

function seconds(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** A port on 127.0.0.1 that is free now; `run` fails clearly if something took it since. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `--assist`: the configured endpoint sees the intent and the words the catalog did not match,
 * and may only answer with catalog ids and phrases of the text; its key comes from the store and
 * stays in this host process (no sandbox is involved in planning).
 */
async function assisted(req: InstallRequest, catalog: Awaited<ReturnType<typeof import('../intent/index.js')['loadCatalog']>>,
  derive: { model?: string }) {
  const cfg = (await loadConfig(req.armorerHome)).intent.assist;
  if (!cfg) {
    throw new ArmorerError('ARMORER_E_CONFIG', '--assist needs an assistant configured in config.yaml',
      'add intent: { assist: { endpoint: https://api.openai.com/v1, model: gpt-4o-mini, secret: OPENAI_API_KEY } } (see docs/configuration.md)');
  }
  let apiKey: string | undefined;
  if (cfg.secret) {
    const { openSecretSource } = await import('../secrets/index.js');
    apiKey = await (await openSecretSource(req.armorerHome)).get(cfg.secret);
    if (apiKey === undefined) {
      throw new ArmorerError('ARMORER_E_SECRET', `the assistant's secret ${cfg.secret} is not set`, `armorer secrets set ${cfg.secret}`);
    }
  }
  const { assistIntent } = await import('../intent/index.js');
  return assistIntent(req.intent, catalog, { endpoint: cfg.endpoint, model: cfg.model, derive, ...(apiKey !== undefined && { apiKey }) });
}
