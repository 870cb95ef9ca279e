import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelServer } from '@hangar/agent/testing/model-server.js';
import { finalAgentTaskStates, type AgentTask, type AuditRecord } from '@hangar/api';
import type { CliResult } from './cli.js';
import type { System } from './system.js';

export type ModelApi = 'openai' | 'anthropic';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `hangar agent run` flags that point a task at the scripted model server over `api`. */
export function modelFlags(model: ModelServer, api: ModelApi = 'openai'): string[] {
  const url = api === 'openai' ? model.openaiBaseUrl : model.anthropicBaseUrl;
  return ['--model', 'scripted-coder', '--model-api', api, '--model-url', url];
}

/** The task `hangar agent run` created: its id from "created agent task ..." on stderr. */
export function taskIdOf(run: CliResult): string {
  const id = /created agent task (agt_[A-Za-z0-9]+)/.exec(run.stderr)?.[1];
  assert.ok(id, `hangar agent run names the task it created: ${run.stderr}`);
  return id;
}

/**
 * Polls `check` every `intervalMs` until it gives a value, for at most `timeoutMs`; resolves
 * with the value and how long it took (a diagnostic, not something to assert on).
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<{ value: T; elapsedMs: number }> {
  const started = performance.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return { value, elapsedMs: Math.round(performance.now() - started) };
    if (performance.now() - started > options.timeoutMs) {
      throw new Error(`${what} did not happen within ${options.timeoutMs} ms`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Every file under `dir`, concatenated (files that vanish meanwhile count as empty). */
export async function filesUnder(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((entry) => entry.isFile());
  const contents = await Promise.all(
    files.map((file) => readFile(join(file.parentPath, file.name)).catch(() => Buffer.alloc(0))),
  );
  return Buffer.concat(contents);
}

/** Reading agent tasks and their traces back from a running system. */
export function agentHarness(system: System) {
  const task = async (id: string) =>
    (await system.api<AgentTask>('GET', `/v1/agent-tasks/${id}`)).body;
  return {
    task,

    /** The task once it has ended, polled for at most `timeoutMs`. */
    async finalTask(id: string, timeoutMs = 60_000): Promise<AgentTask> {
      const ended = await until(
        `agent task ${id} ending`,
        async () => {
          const current = await task(id);
          return finalAgentTaskStates.includes(current.state) ? current : undefined;
        },
        { timeoutMs },
      );
      return ended.value;
    },

    /** The audit records of the task's agent actor, once at least `count` of them arrived. */
    async agentRecords(taskId: string, count: number): Promise<AuditRecord[]> {
      let records: AuditRecord[] = [];
      for (let i = 0; i < 100; i += 1) {
        const { body } = await system.api<{ records: AuditRecord[] }>(
          'GET',
          `/v1/audit?actor=${taskId}&limit=1000`,
        );
        records = body.records.filter((record) => record.actor.id === taskId);
        if (records.length >= count) return records;
        await sleep(100);
      }
      return records;
    },

    /** `sh -c command` in the environment, as the owner. */
    async exec(
      environmentId: string,
      command: string,
    ): Promise<{ code: number | null; out: string }> {
      const result = await system.exec(environmentId, ['sh', '-c', command]);
      return { code: result.exitCode, out: result.out.toString() };
    },

    /** The command lines of the environment's processes whose command line matches `pattern`. */
    async processes(environmentId: string, pattern: string): Promise<string[]> {
      const found = await system.exec(environmentId, ['pgrep', '-a', '-f', pattern]);
      return found.out
        .toString()
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.includes('pgrep'));
    },
  };
}

export type AgentHarness = ReturnType<typeof agentHarness>;
