import type { Recipe } from './types.js';

/** Placeholder until the OpenClaw facts are in (see src/agents/openclaw/). */
export const openclawRecipe: Recipe = {
  id: 'openclaw', packageName: 'openclaw', pinnedVersion: '2026.9.6', allowScripts: [], sandboxPort: 18789,
  configure: async () => {},
  launch: () => ({ command: [], env: {} }),
};
