import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Environment } from '@hangar/api';
import { generateEd25519, privateKeyObject } from '@hangar/api';
import { AuditLog } from '@hangar/control-plane/audit/audit-log.js';
import { openDatabase } from '@hangar/control-plane/storage/open.js';
import { execWith, startSystem } from '#test-support/system.js';
import { agentBenchmarks } from './agent.js';
import { bareBwrap, startSshBaseline } from './baselines.js';
import { sshBenchmarks } from './ssh.js';
import { formatFigure, formatRatio, measure } from './stats.js';
import { webBenchmarks } from './web.js';

const run = promisify(execFile);
const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const runs = Number(process.env.HANGAR_BENCH_RUNS ?? 30);

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function auditAppendsPerSecond(url: string, count: number): Promise<number> {
  const db = await openDatabase({ url });
  try {
    const log = new AuditLog({ db, signingKey: privateKeyObject(generateEd25519().privateKey) });
    const entry = {
      orgId: 'org_benchbenchbench',
      actor: { kind: 'user' as const, id: 'usr_benchbenchbench' },
      action: 'environment.exec',
      target: { kind: 'environment', id: 'env_benchbenchbench' },
      outcome: 'success' as const,
      requestId: 'req_benchbenchbench',
      sourceAddress: '127.0.0.1',
      details: { exitCode: 0, durationMs: 1 },
    };
    await log.record(entry);
    const started = performance.now();
    for (let i = 0; i < count; i += 1) await log.record(entry);
    return count / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  print(
    `Hangar benchmarks, ${runs} runs each after one warm-up; baselines measured in the same run.`,
  );
  const system = await startSystem();
  try {
    const bwrap = await measure('baseline: bare bwrap ... true', runs, bareBwrap);
    const create = await measure('environment create -> running, no repository', runs, async () => {
      const created = await system.api<Environment>('POST', '/v1/environments', {});
      await system.waitFor(created.body.id, 'running');
      await system.api('DELETE', `/v1/environments/${created.body.id}`);
      await system.waitFor(created.body.id, 'deleted');
    });
    print(formatFigure(bwrap));
    print(formatFigure(create));
    print(formatRatio('create -> running vs bare bwrap', create, bwrap));

    const environment = await system.createAndWait({ name: 'bench-exec' });
    const grant = await system.grant(environment.id, ['exec']);
    const apiExec = await measure('exec `true` through the gateway API', runs, async () => {
      await execWith(grant, environment.id, ['true']);
    });
    print(formatFigure(apiExec));

    const cli = join(root, 'packages', 'cli', 'bin', 'hangar.js');
    const cliEnv = { ...process.env, HANGAR_URL: system.cp.url, HANGAR_TOKEN: system.token };
    const cliExec = await measure('exec `true` through the CLI, whole process', runs, async () => {
      await run(process.execPath, [cli, 'env', 'exec', environment.id, '--', 'true'], {
        env: cliEnv,
      });
    });
    print(formatFigure(cliExec));
    const ssh = await startSshBaseline();
    if (ssh) {
      try {
        const sshFigure = await measure('baseline: ssh 127.0.0.1 true', runs, ssh.run);
        print(formatFigure(sshFigure));
        print(formatRatio('CLI exec vs ssh', cliExec, sshFigure));
      } finally {
        await ssh.close();
      }
    } else {
      print('baseline: ssh omitted: no sshd on this machine');
    }
    await sshBenchmarks(system, runs, print);
    await agentBenchmarks(system, runs, print);
  } finally {
    await system.close();
  }
  await webBenchmarks(runs, print);

  const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-db-'));
  const postgres = (await import(pathToFileURL(join(root, 'scripts', 'postgres.mjs')).href)) as {
    startPostgres(): Promise<{ url: string; stop(): Promise<void> }>;
  };
  const server = await postgres.startPostgres();
  try {
    const sqlite = await auditAppendsPerSecond(`sqlite:${join(dir, 'bench.db')}`, 2000);
    print(`${'audit appends per second, SQLite'.padEnd(48)} ${sqlite.toFixed(0)}`);
    const pg = await auditAppendsPerSecond(server.url, 2000);
    print(`${'audit appends per second, PostgreSQL'.padEnd(48)} ${pg.toFixed(0)}`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exitCode = 1;
});
