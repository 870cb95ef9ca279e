import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import {
  HangarError,
  generateEd25519,
  newId,
  privateKeyObject,
  publicKeyObject,
  signAccessToken,
  type AccessClaims,
} from '@hangar/api';
import { pino } from 'pino';
import type { AuditDraft } from '../audit-queue.js';
import type {
  AttachOptions,
  AttachedProcess,
  EnvdClient,
  ExecOptions,
  ExecOutcome,
  ProcessInfo,
  ProcessSpawnOptions,
} from '../providers/provider.js';
import { ActivityTracker } from '../sessions/activity.js';
import { SessionRegistry } from '../sessions/registry.js';
import type { SshAuthorization, SshAuthorizeRequest, SshDeps } from './deps.js';

const unsupported = (): Promise<never> =>
  Promise.reject(new HangarError('invalid_request', 'not in the local test envd'));

/** What the scripted terminal of {@link LocalEnvd} saw. */
export interface TerminalLog {
  spawned: ProcessSpawnOptions[];
  resizes: Array<{ cols: number; rows: number }>;
  input: Buffer[];
}

/**
 * An envd for channel tests that runs commands for real on this machine, in `dir`, as envd
 * would inside an environment: real processes and pipes (so `sftp-server` and `cat` behave as
 * they do), each side's backpressure kept. TCP goes to this machine's loopback. The terminal is
 * scripted instead (no pseudo-terminal here): it prints `ready <cols>x<rows>`, echoes input,
 * prints `size <cols>x<rows>` on each resize and exits with status 3 on `exit`.
 */
export class LocalEnvd implements EnvdClient {
  readonly terminal: TerminalLog = { spawned: [], resizes: [], input: [] };
  readonly execs: ExecOptions[] = [];
  readonly dials: Array<{ port: number; host: string | undefined }> = [];

  constructor(private readonly dir: string) {}

  ping = async () => undefined;
  readFile = unsupported;
  writeFile = unsupported;
  listDir = unsupported;
  listProcesses = async () => [];
  waitProcess = unsupported;
  listPorts = async () => [];
  signalProcess = async () => undefined;
  close = () => undefined;

  async exec(options: ExecOptions): Promise<ExecOutcome> {
    this.execs.push(options);
    const startedAt = performance.now();
    const [program, ...args] = options.command as [string, ...string[]];
    const child = spawn(program, args, {
      cwd: this.dir,
      env: { PATH: '/usr/bin:/bin', ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const kill = () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    const stdin = child.stdin;
    if (stdin && options.stdin) {
      const source = options.stdin;
      stdin.on('error', () => undefined);
      void (async () => {
        for await (const chunk of Buffer.isBuffer(source) ? [source] : source) {
          if (!stdin.write(chunk)) await once(stdin, 'drain').catch(() => undefined);
        }
        stdin.end();
      })().catch(() => undefined);
    }
    const forward = (stream: Readable, to: ExecOptions['onStdout']) => {
      stream.on('data', (chunk: Buffer) => {
        const waiting = to?.(chunk);
        if (!waiting) return;
        stream.pause();
        void Promise.resolve(waiting).then(() => stream.resume());
      });
    };
    forward(child.stdout as Readable, options.onStdout);
    forward(child.stderr as Readable, options.onStderr);
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    options.signal?.removeEventListener('abort', kill);
    return {
      exitCode: code,
      signal,
      timedOut: false,
      durationMs: performance.now() - startedAt,
    };
  }

  async connectTcp(port: number, host?: string): Promise<Duplex> {
    this.dials.push({ port, host });
    const socket = connect({ port, host: host ?? '127.0.0.1' });
    await once(socket, 'connect');
    return socket;
  }

  async spawnProcess(options: ProcessSpawnOptions): Promise<ProcessInfo> {
    this.terminal.spawned.push(options);
    return {
      id: newId('prc'),
      command: options.command,
      pty: options.pty !== undefined,
      pid: 1,
      startedAt: new Date().toISOString(),
      state: 'running',
      exitCode: null,
      signal: null,
      timedOut: false,
      endedAt: null,
      outputBytes: 0,
      labels: options.labels ?? {},
    };
  }

  async attachProcess(id: string, options: AttachOptions): Promise<AttachedProcess> {
    const spawned = this.terminal.spawned.at(-1);
    const size = spawned?.pty ?? { cols: 0, rows: 0 };
    let offset = 0;
    const print = (text: string) => {
      const chunk = Buffer.from(text);
      void options.onOutput(chunk, 'pty', offset);
      offset += chunk.length;
    };
    let finish: (info: ProcessInfo | undefined) => void = () => undefined;
    const done = new Promise<ProcessInfo | undefined>((resolve) => (finish = resolve));
    const exited = (exitCode: number): ProcessInfo => ({
      id,
      command: spawned?.command ?? [],
      pty: true,
      pid: 1,
      startedAt: new Date().toISOString(),
      state: 'exited',
      exitCode,
      signal: null,
      timedOut: false,
      endedAt: new Date().toISOString(),
      outputBytes: offset,
      labels: {},
    });
    print(`ready ${size.cols}x${size.rows}\r\n`);
    return {
      replayedFrom: 0,
      write: async (data) => {
        this.terminal.input.push(data);
        print(data.toString());
        if (data.toString().includes('exit')) finish(exited(3));
      },
      closeInput: () => finish(exited(0)),
      resize: (cols, rows) => {
        this.terminal.resizes.push({ cols, rows });
        print(`size ${cols}x${rows}\r\n`);
      },
      detach: () => finish(undefined),
      done,
    };
  }
}

/** Signs grants as a control plane would; `authorize` answers every key with one, by default. */
export function sshTestDeps(envd: EnvdClient) {
  const controlPlane = generateEd25519();
  const identity = {
    runnerId: 'run_sshtest00001',
    orgId: 'org_sshtest00001',
    controlPlaneUrl: 'http://127.0.0.1:9',
    controlPlanePublicKey: publicKeyObject(controlPlane.publicKey),
    controlPlanePublicKeyRaw: controlPlane.publicKey,
    privateKey: privateKeyObject(generateEd25519().privateKey),
  };
  const environmentId = 'env_sshtest00001';
  const audit: AuditDraft[] = [];
  const commands: Record<string, unknown>[] = [];
  const asked: SshAuthorizeRequest[] = [];
  let failAudit = false;
  const sink = {
    append: async (draft: AuditDraft) => {
      if (failAudit) throw new Error('the disk is full');
      audit.push(draft);
    },
  };
  const logger = pino({ level: 'silent' });
  const activity = new ActivityTracker();
  const sign = (overrides: Partial<AccessClaims> = {}): string => {
    const nowS = Math.floor(Date.now() / 1000);
    const claims: AccessClaims = {
      iss: 'hangar',
      aud: identity.runnerId,
      org: identity.orgId,
      env: environmentId,
      act: { kind: 'user', id: 'usr_sshtest00001' },
      ops: ['ssh'],
      iat: nowS,
      exp: nowS + 300,
      jti: newId('grt'),
      ...overrides,
    };
    return signAccessToken(claims, privateKeyObject(controlPlane.privateKey));
  };
  let answer = async (_request: SshAuthorizeRequest): Promise<SshAuthorization> => ({
    ok: true,
    token: sign(),
    environmentId,
  });
  const deps: SshDeps = {
    identity: () => identity,
    audit: sink,
    logger,
    envd: async () => envd,
    logCommand: async (entry) => {
      commands.push(entry);
    },
    remoteEnv: () => ({ FROM_REMOTE_ENV: 'yes' }),
    workspaceFolder: () => '/workspaces/repo',
    sessions: new SessionRegistry({
      audit: sink,
      logger,
      onActivity: (id) => activity.touch(id),
    }),
    activity,
    authorize: async (request) => {
      asked.push(request);
      return answer(request);
    },
  };
  return {
    deps,
    environmentId,
    audit,
    commands,
    asked,
    sign,
    answerWith: (next: (request: SshAuthorizeRequest) => Promise<SshAuthorization>) => {
      answer = next;
    },
    failAudit: (value: boolean) => {
      failAudit = value;
    },
  };
}
