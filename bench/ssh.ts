import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { System } from '#test-support/system.js';
import { formatFigure, formatRatio, measure, type Figure } from './stats.js';
import { startStockSshd, type Server } from './stock-sshd.js';

const run = promisify(execFile);

function clientArgs(server: Server, key: string): string[] {
  return [
    '-F',
    'none',
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${server.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
}

async function untilAnswers(attempt: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    try {
      await attempt();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the ssh server never answered');
}

/** A ControlMaster for the server; later clients multiplex over its one connection. */
async function startMaster(server: Server, key: string, socket: string) {
  const target = `${server.user}@127.0.0.1`;
  const base = [...clientArgs(server, key), '-p', String(server.port), '-S', socket];
  const master: ChildProcess = spawn('ssh', [...base, '-M', '-N', target], { stdio: 'ignore' });
  await untilAnswers(() => run('ssh', [...base, '-O', 'check', target]));
  return {
    run: () => run('ssh', [...base, '-o', 'ControlMaster=no', target, 'true']),
    close: async () => {
      await run('ssh', [...base, '-O', 'exit', target]).catch(() => undefined);
      master.kill('SIGTERM');
    },
  };
}

interface Figures {
  fresh: Figure;
  multiplexed: Figure;
  upload: Figure;
  download: Figure;
}

async function measureServer(
  server: Server,
  key: string,
  dir: string,
  file: string,
  runs: number,
  transferRuns: number,
): Promise<Figures> {
  const target = `${server.user}@127.0.0.1`;
  const args = [...clientArgs(server, key), '-p', String(server.port)];
  const fresh = await measure(`${server.label}: ssh true, fresh connection`, runs, async () => {
    await run('ssh', [...args, target, 'true']);
  });
  const master = await startMaster(server, key, join(dir, `${server.port}.sock`));
  let multiplexed: Figure;
  try {
    multiplexed = await measure(`${server.label}: ssh true, ControlMaster`, runs, async () => {
      await master.run();
    });
  } finally {
    await master.close();
  }
  const scpArgs = [...clientArgs(server, key), '-P', String(server.port)];
  const remote = `${target}:${server.uploadPath}`;
  const upload = await measure(`${server.label}: scp 200 MB up`, transferRuns, async () => {
    await run('scp', [...scpArgs, file, remote]);
  });
  const download = await measure(`${server.label}: scp 200 MB down`, transferRuns, async () => {
    await run('scp', [...scpArgs, remote, join(dir, `${server.port}-down.bin`)]);
  });
  return { fresh, multiplexed, upload, download };
}

function megabytesPerSecond(figure: Figure, bytes: number): string {
  return `${(bytes / 1e6 / (figure.p50Ms / 1000)).toFixed(0)} MB/s`;
}

/**
 * The runner's SSH gateway against a stock sshd on this machine, in the same run, with the same
 * OpenSSH client and key: a command round trip on a fresh connection and over a ControlMaster,
 * and scp of a 200 MB file each way. Printed as ratios; the target is 1.5x.
 */
export async function sshBenchmarks(
  system: System,
  runs: number,
  print: (line: string) => void,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-ssh-'));
  await chmod(dir, 0o700);
  let stock: Awaited<ReturnType<typeof startStockSshd>> = undefined;
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
    const key = join(dir, 'client');
    const publicKey = await readFile(`${key}.pub`, 'utf8');
    stock = await startStockSshd(dir, publicKey);
    if (!stock) {
      print('ssh benchmarks omitted: no sshd on this machine');
      return;
    }
    const added = await system.api('POST', '/v1/ssh-keys', { publicKey: publicKey.trim() });
    if (added.status !== 201) throw new Error(`ssh-key add: ${JSON.stringify(added.body)}`);
    const environment = await system.createAndWait({ name: 'bench-ssh' });
    const gateway = system.runner.ssh;
    const knownHosts = join(dir, 'gateway_known_hosts');
    const pinned = gateway.hostKeys.map((line) => `[127.0.0.1]:${gateway.port} ${line}`);
    await writeFile(knownHosts, `${pinned.join('\n')}\n`);
    const hangar: Server = {
      label: 'hangar',
      port: gateway.port,
      user: environment.id,
      knownHosts,
      uploadPath: 'uploaded.bin',
    };
    const file = join(dir, 'payload.bin');
    await writeFile(file, randomBytes(200 * 1024 * 1024));
    const { server } = stock;
    const stockArgs = [...clientArgs(server, key), '-p', String(server.port)];
    await untilAnswers(() => run('ssh', [...stockArgs, `${server.user}@127.0.0.1`, 'true']));
    const transferRuns = Math.max(3, Math.min(runs, 5));
    const baseline = await measureServer(stock.server, key, dir, file, runs, transferRuns);
    const measured = await measureServer(hangar, key, dir, file, runs, transferRuns);
    const bytes = 200 * 1024 * 1024;
    for (const name of ['fresh', 'multiplexed', 'upload', 'download'] as const) {
      print(formatFigure(baseline[name]));
      print(formatFigure(measured[name]));
    }
    print(
      `${'scp up: stock sshd / hangar'.padEnd(48)} ${megabytesPerSecond(baseline.upload, bytes)} / ${megabytesPerSecond(measured.upload, bytes)}`,
    );
    print(
      `${'scp down: stock sshd / hangar'.padEnd(48)} ${megabytesPerSecond(baseline.download, bytes)} / ${megabytesPerSecond(measured.download, bytes)}`,
    );
    print(formatRatio('ssh true, fresh, vs stock sshd', measured.fresh, baseline.fresh));
    print(
      formatRatio(
        'ssh true, ControlMaster, vs stock sshd',
        measured.multiplexed,
        baseline.multiplexed,
      ),
    );
    print(formatRatio('scp 200 MB up vs stock sshd', measured.upload, baseline.upload));
    print(formatRatio('scp 200 MB down vs stock sshd', measured.download, baseline.download));
  } finally {
    stock?.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}
