import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program.command('doctor')
    .description('measure, with live probes, what each sandbox backend can enforce here (exit 0 = default backend usable)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { loadConfig } = await import('../core/config.js');
      const { doctor } = await import('../sandbox/doctor.js');
      const home = armorerHome();
      const reports = await doctor(home, (await loadConfig(home)).sandbox.user);
      const def = reports.find((r) => r.isDefault)!;
      process.exitCode = def.usable ? 0 : 1;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ usable: def.usable, backends: reports }, null, 2)}\n`);
        return;
      }
      const mark = { ok: 'ok      ', degraded: 'DEGRADED', missing: 'MISSING ' } as const;
      for (const r of reports) {
        process.stdout.write(`${r.backend}${r.isDefault ? ' (default)' : ''}\n`);
        for (const g of r.guarantees) {
          process.stdout.write(`  ${mark[g.status]} ${g.id.padEnd(18)} ${g.detail}\n`);
          if (g.fix && g.status !== 'ok') process.stdout.write(`  ${' '.repeat(8)} ${''.padEnd(18)} fix: ${g.fix}\n`);
        }
      }
      const degraded = def.guarantees.filter((g) => g.status === 'degraded').length;
      process.stdout.write(def.usable
        ? `\n${def.backend} is usable${degraded ? ` (${degraded} guarantee(s) degraded, see above)` : ': every guarantee measured present'}.\n`
        : `\n${def.backend} is NOT usable here: armorer will refuse to run until the MISSING items are fixed.\n`);
    });
}
