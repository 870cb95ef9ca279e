import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyCounts, type LoopCounts, type LoopResult } from '@hangar/agent';
import {
  HangarError,
  finalAgentTaskStates,
  sha256Hex,
  type Actor,
  type AgentTaskReport,
  type AgentTaskState,
  type DesiredAgentTask,
  type RunnerMessage,
} from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';
import type { Masker } from '../secrets/masker.js';
import type { OpenedSecret } from '../secrets/open.js';
import { AgentGatewayClient } from './gateway-client.js';
import { AgentGrants, TaskGrant, type GrantConnection } from './grants.js';
import { modelKeyOf } from './model-key.js';
import { runCommandTask, runLoopTask, type RunContext } from './runs.js';
import { taskFolder, Transcript } from './transcript.js';

/** The egress proxy's side for agent tasks (the runner's egress service). */
export interface AgentEgress {
  setTaskRule(
    environmentId: string,
    task: { taskId: string; ownerId: string; rule: DesiredAgentTask['egress']; credential: string },
  ): void;
  clearTaskRule(environmentId: string, taskId: string): void;
  proxyUrlFor(credential: string): string;
}

export interface AgentManagerDeps {
  dataDir: string;
  audit: { append(draft: AuditDraft): Promise<unknown> };
  logger: Logger;
  connection: GrantConnection & { send(message: RunnerMessage): boolean };
  /** The gateway as this runner listens on it, on loopback. */
  gatewayUrl: () => string;
  environmentRunning: (environmentId: string) => Promise<boolean>;
  workspaceFolder: (environmentId: string) => string | undefined;
  secretsOf: (environmentId: string) => readonly OpenedSecret[];
  maskerOf: (environmentId: string) => Masker;
  egress?: () => AgentEgress | undefined;
}

/** How long a stop waits for a task's run to end before it reports anyway. */
const stopGraceMs = 5000;
/** A running task reports its counts every this many model turns. */
const reportEverySteps = 5;
const maxPromptBytes = 1024 * 1024;

interface Meta {
  taskId: string;
  environmentId: string;
  ownerId: string;
}

interface Entry {
  desired: DesiredAgentTask;
  state: AgentTaskState;
  counts: LoopCounts;
  transcript: Transcript;
  run?: { abort: AbortController; kills: Array<() => Promise<void>>; done: Promise<void> };
  final?: AgentTaskReport;
}

const isFinal = (state: AgentTaskState) => finalAgentTaskStates.includes(state);

/**
 * The agent tasks of this runner. A task arrives from the control plane (`agent-task`, and in
 * every welcome) and waits for its prompt, which its owner sends to the gateway; then its loop
 * (or command) runs beside the environment, its state and counts go to the control plane, and
 * its transcript stays here. A stop aborts the model call and kills the task's commands.
 */
export class AgentTaskManager {
  private readonly tasks = new Map<string, Entry>();
  /** Tasks known from an earlier run of the runner: their transcripts can still be read. */
  private readonly metas = new Map<string, Meta>();
  private readonly grants: AgentGrants;

  constructor(private readonly deps: AgentManagerDeps) {
    this.grants = new AgentGrants(deps.connection);
  }

  /** Reads which tasks this runner ran before, so their transcripts stay readable. */
  async restore(): Promise<void> {
    const root = join(this.deps.dataDir, 'agents');
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names) {
      const meta = await readFile(join(root, name, 'task.json'), 'utf8')
        .then((text) => JSON.parse(text) as Meta)
        .catch(() => undefined);
      if (meta?.taskId === name) this.metas.set(name, meta);
    }
  }

  /** A task from the control plane: new, or asked to stop. */
  update(desired: DesiredAgentTask): void {
    const entry = this.tasks.get(desired.id);
    if (entry) {
      entry.desired = desired;
      if (entry.final) this.send(entry.final);
      else if (desired.desired === 'stop') void this.stop(entry);
      return;
    }
    const created: Entry = {
      desired,
      state: 'queued',
      counts: emptyCounts(),
      transcript: new Transcript(taskFolder(this.deps.dataDir, desired.id), () =>
        this.deps.maskerOf(desired.environmentId),
      ),
    };
    this.tasks.set(desired.id, created);
    if (this.metas.has(desired.id)) {
      // It ran here before the runner restarted; its loop went with the old process.
      this.finish(created, {
        state: 'failed',
        reason: 'the runner restarted while the task ran',
        errorCode: 'runner_restarted',
        ...emptyCounts(),
      });
    } else if (desired.desired === 'stop') {
      this.finish(created, { state: 'cancelled', reason: 'stopped', ...emptyCounts() });
    }
  }

  /**
   * Every task the control plane thinks has not ended: final reports it may have missed are
   * sent again; a task it no longer lists is stopped.
   */
  replaceAll(tasks: readonly DesiredAgentTask[]): void {
    const listed = new Set(tasks.map((task) => task.id));
    for (const task of tasks) this.update(task);
    for (const entry of this.tasks.values()) {
      if (!listed.has(entry.desired.id) && entry.run) void this.stop(entry);
    }
  }

  environmentOf(taskId: string): string | undefined {
    return this.tasks.get(taskId)?.desired.environmentId ?? this.metas.get(taskId)?.environmentId;
  }

  /** The owner and the transcript of a task, for the transcript route; the owner checks there. */
  transcriptOf(taskId: string): { ownerId: string; transcript: Transcript } | undefined {
    const entry = this.tasks.get(taskId);
    if (entry) return { ownerId: entry.desired.ownerId, transcript: entry.transcript };
    const meta = this.metas.get(taskId);
    if (!meta) return undefined;
    const transcript = new Transcript(
      taskFolder(this.deps.dataDir, taskId),
      () =>
        ({
          maskText: (text: string) => text,
        }) as Masker,
    );
    transcript.end();
    return { ownerId: meta.ownerId, transcript };
  }

  /**
   * The owner's prompt: checked against the digest the control plane holds, audited with the
   * digest only, and the task started once the environment runs.
   */
  async submitPrompt(input: {
    taskId: string;
    prompt: string;
    actor: Actor;
    requestId: string;
    sourceAddress: string;
  }): Promise<{ taskId: string; state: AgentTaskState }> {
    const entry = this.tasks.get(input.taskId);
    if (!entry) {
      throw new HangarError('not_found', `agent task ${input.taskId} is not on this runner`);
    }
    const { desired } = entry;
    if (input.actor.kind !== 'user' || input.actor.id !== desired.ownerId) {
      throw new HangarError('forbidden', 'only the owner of an agent task may send its prompt');
    }
    if (entry.state !== 'queued' || entry.run || desired.desired === 'stop') {
      throw new HangarError(
        'conflict',
        `agent task ${desired.id} is ${desired.desired === 'stop' ? 'stopped' : entry.state}; its ` +
          'prompt can be sent once, while it waits for it',
      );
    }
    if (Buffer.byteLength(input.prompt) > maxPromptBytes) {
      throw new HangarError(
        'payload_too_large',
        `the prompt is larger than ${maxPromptBytes} bytes`,
      );
    }
    const digest = sha256Hex(input.prompt);
    const base = {
      actor: input.actor,
      action: 'agent.prompt.submit',
      target: { kind: 'agent-task', id: desired.id },
      requestId: input.requestId,
      sourceAddress: input.sourceAddress,
    } as const;
    if (digest !== desired.promptSha256) {
      await this.deps.audit.append({
        ...base,
        outcome: 'failure',
        details: { promptSha256: digest, reason: 'digest_mismatch' },
      });
      throw new HangarError(
        'invalid_request',
        "the prompt's SHA-256 differs from the task's promptSha256; send the prompt the task " +
          'was created with',
        { fields: [{ field: 'prompt', message: 'does not match promptSha256' }] },
      );
    }
    if (!(await this.deps.environmentRunning(desired.environmentId))) {
      throw new HangarError(
        'environment_not_running',
        `environment ${desired.environmentId} is not running on this runner; wait until it runs, ` +
          'then send the prompt again',
      );
    }
    await this.deps.audit.append({
      ...base,
      outcome: 'success',
      details: { promptSha256: digest, environmentId: desired.environmentId },
    });
    this.start(entry, input.prompt);
    return { taskId: desired.id, state: entry.state };
  }

  /** Stops every run (the runner is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((entry) => this.stop(entry)));
  }

  private start(entry: Entry, prompt: string): void {
    const { desired } = entry;
    entry.state = 'running';
    this.report(entry);
    const abort = new AbortController();
    const run: NonNullable<Entry['run']> = { abort, kills: [], done: Promise.resolve() };
    entry.run = run;
    run.done = this.execute(entry, prompt, run)
      .catch((error: unknown): LoopResult => {
        this.deps.logger.error({ err: error, taskId: desired.id }, 'agent task failed');
        return { state: 'failed', reason: 'internal', errorCode: 'internal', ...entry.counts };
      })
      .then((result) => this.finish(entry, result));
  }

  private async execute(
    entry: Entry,
    prompt: string,
    run: NonNullable<Entry['run']>,
  ): Promise<LoopResult> {
    const { desired, transcript } = entry;
    const log = this.deps.logger.child({
      taskId: desired.id,
      environmentId: desired.environmentId,
    });
    await writeMeta(this.deps.dataDir, {
      taskId: desired.id,
      environmentId: desired.environmentId,
      ownerId: desired.ownerId,
    });
    const workspaceFolder = this.deps.workspaceFolder(desired.environmentId);
    const key = modelKeyOf(this.deps.secretsOf(desired.environmentId), desired);
    if (!workspaceFolder || !key.ok) {
      const why = key.ok ? 'the environment has no workspace folder yet' : key.message;
      transcript.append({ type: 'error', message: why });
      return {
        state: 'failed',
        reason: why,
        errorCode: key.ok ? 'no_workspace' : 'model_key_missing',
        ...entry.counts,
      } satisfies LoopResult;
    }
    const egress = this.deps.egress?.();
    const credential = randomBytes(24).toString('base64url');
    let commandEnv: Record<string, string> = {};
    if (egress) {
      egress.setTaskRule(desired.environmentId, {
        taskId: desired.id,
        ownerId: desired.ownerId,
        rule: desired.egress,
        credential,
      });
      const proxy = egress.proxyUrlFor(credential);
      commandEnv = { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy };
    } else {
      log.warn('this runner has no egress proxy; the task runs with the environment unchanged');
    }
    const grant = new TaskGrant(this.grants, desired.id);
    const context: RunContext = {
      task: desired,
      prompt,
      transcript,
      signal: run.abort.signal,
      client: new AgentGatewayClient({
        baseUrl: this.deps.gatewayUrl(),
        environmentId: desired.environmentId,
        token: (options) => grant.token(options),
      }),
      workspaceFolder,
      audit: this.deps.audit,
      logger: log,
      commandEnv,
      modelKey: key.value,
      onCounts: (counts) => {
        entry.counts = counts;
        if (counts.steps % reportEverySteps === 0) this.report(entry);
      },
      onKill: (kill) => run.kills.push(kill),
    };
    log.info({ kind: desired.kind, model: desired.model.model }, 'agent task started');
    try {
      return desired.kind === 'command'
        ? await runCommandTask(context)
        : await runLoopTask(context);
    } catch (error) {
      if (run.abort.signal.aborted)
        return { state: 'cancelled', reason: 'stopped', ...entry.counts };
      throw error;
    } finally {
      egress?.clearTaskRule(desired.environmentId, desired.id);
    }
  }

  private async stop(entry: Entry): Promise<void> {
    const run = entry.run;
    if (!run) {
      if (!entry.final)
        this.finish(entry, { state: 'cancelled', reason: 'stopped', ...entry.counts });
      return;
    }
    run.abort.abort();
    await Promise.all(run.kills.map((kill) => kill().catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, stopGraceMs)));
    await Promise.race([run.done, late]);
    clearTimeout(timer);
  }

  private finish(entry: Entry, result: LoopResult): void {
    if (entry.final) return;
    entry.run = undefined;
    entry.counts = {
      steps: result.steps,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      toolCalls: result.toolCalls,
      malformed: result.malformed,
    };
    entry.state = result.state;
    entry.transcript.append({
      type: 'end',
      state: result.state,
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
      ...(result.summary !== undefined ? { summary: result.summary } : {}),
      ...entry.counts,
    });
    entry.transcript.end();
    // What leaves the runner names the outcome without quoting anything the task saw.
    const reason = result.state === 'failed' ? (result.errorCode ?? 'failed') : result.reason;
    entry.final = this.report(entry, {
      ...(reason !== undefined ? { reason } : {}),
      ...(result.summary !== undefined ? { summarySha256: sha256Hex(result.summary) } : {}),
    });
    this.deps.logger.info(
      { taskId: entry.desired.id, state: result.state, reason, ...entry.counts },
      'agent task ended',
    );
  }

  private report(
    entry: Entry,
    extra: { reason?: string; summarySha256?: string } = {},
  ): AgentTaskReport {
    const report: AgentTaskReport = {
      taskId: entry.desired.id,
      state: entry.state,
      steps: entry.counts.steps,
      inputTokens: entry.counts.inputTokens,
      outputTokens: entry.counts.outputTokens,
      ...(extra.reason !== undefined ? { reason: extra.reason.slice(0, 500) } : {}),
      ...(extra.summarySha256 !== undefined ? { summarySha256: extra.summarySha256 } : {}),
    };
    this.send(report);
    return report;
  }

  private send(report: AgentTaskReport): void {
    if (this.deps.connection.send({ type: 'agent-status', report })) return;
    if (isFinal(report.state)) {
      this.deps.logger.warn(
        { taskId: report.taskId, state: report.state },
        'the control plane is not connected; the task state is reported again at the next welcome',
      );
    }
  }
}

async function writeMeta(dataDir: string, meta: Meta): Promise<void> {
  const folder = taskFolder(dataDir, meta.taskId);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await writeFile(join(folder, 'task.json'), `${JSON.stringify(meta)}\n`, { mode: 0o600 });
}
