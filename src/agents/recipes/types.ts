import type { AgentPaths } from '../paths.js';
import type { PlannedGrant } from '../policy.js';
import type { AgentRecord, RecipeId } from '../record.js';

/** What a recipe knows at configure and launch time. */
export interface RecipeContext {
  armorerHome: string;
  paths: AgentPaths;
  record: AgentRecord;
  grants: PlannedGrant[];
  /** Where the egress proxy (and the brokered endpoints) answer inside the sandbox. */
  proxyPort: number;
  notice: (line: string) => void;
}

/** How the agent starts inside the sandbox. */
export interface LaunchPlan {
  command: string[];
  env: Record<string, string>;
}

export interface HealthReport {
  ok: boolean;
  /** One line per check: what was asked and what came back. */
  checks: { name: string; ok: boolean; detail: string }[];
}

/**
 * A recipe is data plus a small module: how to install, configure, launch and probe one kind of
 * agent. The installer and launcher do everything else (sandbox, egress, audit) the same way.
 */
export interface Recipe {
  id: RecipeId;
  /** The npm package the recipe installs (null for `command`). */
  packageName: string | null;
  /** The known-good version installed when --version is not given (null: the registry's latest, recorded exactly). */
  pinnedVersion: string | null;
  /** `engines.node` of the pinned version, when known ahead: its runtime is installed in the same npm run. */
  nodeRange?: string;
  /** Packages whose lifecycle scripts may run, sandboxed. */
  allowScripts: string[];
  /** The agent's UI or gateway port inside the sandbox, if it serves one. */
  sandboxPort: number | null;
  /** Writes the agent's own configuration into its private home, hardened for the grants. */
  configure(ctx: RecipeContext): Promise<void>;
  /** A command run in the sandbox after configure that exits 0 when the agent accepts its config. */
  validateCommand?(ctx: RecipeContext): LaunchPlan | null;
  launch(ctx: RecipeContext, args: string[]): LaunchPlan;
  /** Probes the published port on host loopback. */
  health?(ctx: RecipeContext, hostPort: number, token: string | null): Promise<HealthReport>;
}
