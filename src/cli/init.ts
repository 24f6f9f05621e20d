import type { Command } from 'commander';

export function registerInit(program: Command): void {
  program.command('init')
    .description('create $ARMORER_HOME (default ~/.armorer) with a commented config.yaml; safe to run again')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { armorerHome } = await import('../core/paths.js');
      const { initHome } = await import('../core/home.js');
      const { loadConfig } = await import('../core/config.js');
      const report = initHome(armorerHome());
      const config = await loadConfig(report.home);
      // The CA for TLS interception of hosts with secret bindings (and only those).
      const { ensureCa } = await import('../egress/ca.js');
      const { join } = await import('node:path');
      const ca = await ensureCa(join(report.home, 'keys', 'ca'));
      let sandboxUser: string | undefined;
      if (process.getuid?.() === 0) {
        const { hostIdentity } = await import('../sandbox/bwrap/identity.js');
        const id = hostIdentity(config.sandbox.user);
        sandboxUser = `${id.name} (uid ${id.uid})`;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...report, sandboxUser, caCert: ca.certPath }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`Armorer home: ${report.home}\n`);
      for (const p of report.created) process.stdout.write(`  created   ${p}\n`);
      for (const p of report.tightened) process.stdout.write(`  tightened ${p} (was readable by others)\n`);
      if (report.created.length === 0 && report.tightened.length === 0) process.stdout.write('  already set up; nothing changed\n');
      if (sandboxUser) process.stdout.write(`Sandboxed processes run as ${sandboxUser}.\n`);
      process.stdout.write(`Local CA (trusted only inside sandboxes, for hosts with a secret binding): ${ca.certPath}\n`);
      process.stdout.write('Next: "armorer doctor" checks what this machine can enforce.\n');
    });
}
