/**
 * The catalog as a Markdown table, grouped. docs/intents.md embeds the shipped catalog's table and
 * a unit test compares the two, so the documented list is always the shipped one.
 */
import { GROUPS, type Catalog, type CatalogEntry, type Group } from './types.js';

const GROUP_TITLES: Record<Group, string> = {
  model: 'Model providers', chat: 'Chat channels', mail: 'Mail and calendars', developer: 'Developer services',
  knowledge: 'Knowledge tools', web: 'Web', files: 'Local files', shell: 'Shell and code', schedule: 'Scheduled tasks',
  text: 'Text (no access)',
};

export function catalogTable(catalog: Catalog): string {
  const out: string[] = [];
  for (const g of GROUPS) {
    const entries = catalog.entries.filter((e) => e.group === g);
    if (entries.length === 0) continue;
    out.push(`### ${GROUP_TITLES[g]}`, '', '| id | triggers | grants | reason |', '|---|---|---|---|');
    for (const e of entries) {
      out.push(`| \`${e.id}\` | ${e.triggers.map((t) => `\`${t}\``).join(', ')} | ${grantsCell(e)} | ${cell(e.reason)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function grantsCell(e: CatalogEntry): string {
  const parts: string[] = [];
  if (e.folder !== undefined) parts.push(`\`files.read:${e.folder}\` (or \`files.write\`)`);
  if (e.paths) parts.push('`files.read:<path>` (or `files.write`) for each path typed');
  parts.push(...e.grants.map((g) => `\`${g}\``));
  if (e.host !== undefined) parts.push(`{host}: ${cell(e.host)}`);
  if (e.needs !== undefined) parts.push(`needs: ${cell(e.needs)}`);
  if (e.networkMisses === 'ask') parts.push('other hosts: ask');
  if (e.feature) parts.push('feature');
  return parts.length > 0 ? parts.join('<br>') : '(nothing)';
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
