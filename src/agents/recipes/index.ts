import { ArmorerError } from '../../core/errors.js';
import { checkAgentName } from '../paths.js';
import type { RecipeId } from '../record.js';
import { commandRecipe, splitCommand } from './command.js';
import { npmRecipe } from './npm.js';
import { openclawRecipe } from './openclaw.js';
import type { Recipe } from './types.js';

export type { HealthReport, LaunchPlan, Recipe, RecipeContext } from './types.js';

export interface ResolvedRecipe {
  recipe: Recipe;
  name: string;
  /** What npm installs (`pkg@version`), or null for a command. */
  packageSpec: string | null;
  command?: string[];
}

const PKG_RE = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const VERSION_RE = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;

/**
 * `openclaw`, `npm:<package>[@version]`, or any name with `--command`. A version must be exact:
 * what is installed is recorded and re-checked, so "latest" is resolved once, at install.
 */
export function resolveRecipe(agent: string, o: { version?: string; command?: string; name?: string }): ResolvedRecipe {
  const exact = (v: string) => {
    if (!VERSION_RE.test(v)) {
      throw new ArmorerError('ARMORER_E_RECIPE', `"${v}" is not an exact version`, 'give a version like 2026.9.6 (ranges and tags are not accepted)');
    }
    return v;
  };
  if (o.command !== undefined) {
    if (o.version !== undefined) throw new ArmorerError('ARMORER_E_RECIPE', '--version does not apply to --command', 'drop --version');
    return { recipe: commandRecipe, name: checkAgentName(o.name ?? agent), packageSpec: null, command: splitCommand(o.command) };
  }
  if (agent === 'openclaw') {
    const version = exact(o.version ?? openclawRecipe.pinnedVersion!);
    return { recipe: openclawRecipe, name: checkAgentName(o.name ?? 'openclaw'), packageSpec: `openclaw@${version}` };
  }
  if (agent.startsWith('npm:')) {
    const spec = agent.slice(4);
    const at = spec.lastIndexOf('@');
    const [pkg, v] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, undefined];
    if (!PKG_RE.test(pkg)) throw new ArmorerError('ARMORER_E_RECIPE', `"${pkg}" is not an npm package name`, 'write npm:<package>[@version], e.g. npm:cowsay@1.6.0');
    if (v !== undefined && o.version !== undefined) throw new ArmorerError('ARMORER_E_RECIPE', 'the version is given twice', 'use either npm:pkg@version or --version');
    const version = v ?? o.version;
    const name = o.name ?? pkg.split('/').pop()!.replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '');
    return { recipe: npmRecipe(pkg), name: checkAgentName(name || 'agent'), packageSpec: version ? `${pkg}@${exact(version)}` : pkg };
  }
  throw new ArmorerError('ARMORER_E_RECIPE', `no recipe for "${agent}"`,
    'use openclaw, npm:<package>[@version], or a name with --command "program args"');
}

export function recipeFor(id: RecipeId, packageName: string | undefined): Recipe {
  if (id === 'openclaw') return openclawRecipe;
  if (id === 'command') return commandRecipe;
  if (!packageName) throw new ArmorerError('ARMORER_E_RECIPE', 'an npm agent without a package name', 'reinstall the agent');
  return npmRecipe(packageName);
}
