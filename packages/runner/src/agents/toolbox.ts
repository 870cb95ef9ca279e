import type { Actor, DesiredAgentTask, FileEntry } from '@hangar/api';
import {
  resolveToolPath,
  ToolPolicy,
  type CheckedCall,
  type Toolbox,
  type ToolOutcome,
} from '@hangar/agent';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';
import { GatewayCallError, type AgentGatewayClient } from './gateway-client.js';
import { forModel, looksBinary } from './output.js';

export interface GatewayToolboxOptions {
  task: DesiredAgentTask;
  workspaceFolder: string;
  client: AgentGatewayClient;
  audit: { append(draft: AuditDraft): Promise<unknown> };
  logger: Logger;
  /** Variables every command of the task gets: the agent's proxy credentials. */
  commandEnv: Record<string, string>;
}

const maxListedEntries = 1000;

export function agentActor(task: Pick<DesiredAgentTask, 'id' | 'ownerId'>): Actor {
  return { kind: 'agent', id: task.id, onBehalfOf: task.ownerId };
}

function failure(error: unknown): ToolOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof GatewayCallError ? `${error.code}: ` : '';
  return { content: `Error: ${code}${message}`, isError: true };
}

const ok = (content: string): ToolOutcome => ({ content, isError: false });
const refused = (content: string): ToolOutcome => ({ content: `Error: ${content}`, isError: true });

/**
 * The loop's tools over the runner's own gateway, with the agent's grant. Every call is checked
 * against the task's rules first; a refusal is told to the model and audited as access.denied
 * by the agent. Commands in flight are tracked, so a stop ends every one of them.
 */
export class GatewayToolbox implements Toolbox {
  private readonly policy: ToolPolicy;
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly options: GatewayToolboxOptions) {
    this.policy = new ToolPolicy(options.task, options.workspaceFolder);
  }

  async run(
    call: CheckedCall,
    context: { signal: AbortSignal; commandTimeoutS: number },
  ): Promise<ToolOutcome> {
    const refusal = this.policy.refusal(call);
    if (refusal) {
      await this.auditRefusal(call, refusal);
      return refused(`refused by the task's rules: ${refusal}`);
    }
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(abort);
    try {
      return await this.dispatch(call, { signal: abort.signal, timeoutS: context.commandTimeoutS });
    } catch (error) {
      return failure(error);
    } finally {
      this.inFlight.delete(abort);
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends every call in flight: their requests are cut, which kills their commands. */
  killAll(): number {
    const count = this.inFlight.size;
    for (const abort of this.inFlight) abort.abort();
    return count;
  }

  private path(input: string): string {
    const resolved = resolveToolPath(input, this.options.workspaceFolder);
    if (!resolved.ok) throw new Error(resolved.message);
    return resolved.path;
  }

  private async dispatch(
    call: CheckedCall,
    context: { signal: AbortSignal; timeoutS: number },
  ): Promise<ToolOutcome> {
    const { client } = this.options;
    const { signal } = context;
    switch (call.name) {
      case 'run_command': {
        const timeoutS = Math.min(call.args.timeoutS ?? context.timeoutS, context.timeoutS);
        return this.exec(['/bin/sh', '-c', call.args.command], {
          ...(call.args.cwd !== undefined ? { cwd: this.path(call.args.cwd) } : {}),
          timeoutS,
          signal,
        });
      }
      case 'search_files': {
        const where = this.path(call.args.path ?? '.');
        const outcome = await this.exec(['grep', '-rnI', '--', call.args.pattern, where], {
          timeoutS: context.timeoutS,
          signal,
          exitCodes: { 1: 'no matches' },
        });
        return outcome;
      }
      case 'read_file': {
        const data = await client.readFile(this.path(call.args.path), signal);
        if (looksBinary(data)) return ok(`(a binary file of ${data.length} bytes)`);
        return ok(forModel(data));
      }
      case 'write_file': {
        const path = this.path(call.args.path);
        const data = Buffer.from(call.args.content, 'utf8');
        await client.writeFile(path, data, signal);
        return ok(`wrote ${data.length} bytes to ${path}`);
      }
      case 'replace_in_file':
        return this.replace(
          this.path(call.args.path),
          call.args.old_text,
          call.args.new_text,
          signal,
        );
      case 'list_directory': {
        const entries = await client.listDirectory(this.path(call.args.path), signal);
        return ok(listing(entries));
      }
      case 'finish':
        return ok('finished');
    }
  }

  private async exec(
    command: string[],
    options: {
      cwd?: string;
      timeoutS: number;
      signal: AbortSignal;
      exitCodes?: Record<number, string>;
    },
  ): Promise<ToolOutcome> {
    const result = await this.options.client.exec(
      {
        command,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        env: this.options.commandEnv,
        timeoutMs: options.timeoutS * 1000,
        mask: true,
      },
      options.signal,
    );
    const said = result.exitCode !== null ? options.exitCodes?.[result.exitCode] : undefined;
    const status = result.timedOut
      ? `killed after its ${options.timeoutS} s timeout`
      : result.exitCode !== null
        ? `exit code ${result.exitCode}`
        : `ended by ${result.signal ?? 'a signal'}`;
    const parts = [said ? `${status} (${said})` : status];
    if (result.stdout.length > 0) parts.push(`stdout:\n${forModel(result.stdout)}`);
    if (result.stderr.length > 0) parts.push(`stderr:\n${forModel(result.stderr)}`);
    return { content: parts.join('\n'), isError: false, commandMs: result.durationMs };
  }

  private async replace(
    path: string,
    oldText: string,
    newText: string,
    signal: AbortSignal,
  ): Promise<ToolOutcome> {
    if (oldText === '') return refused('old_text is empty; quote the text to replace');
    const { client } = this.options;
    const data = await client.readFile(path, signal);
    if (looksBinary(data)) return refused(`${path} is a binary file; it is not edited as text`);
    const text = data.toString('utf8');
    const count = text.split(oldText).length - 1;
    if (count !== 1) {
      return refused(
        count === 0
          ? `old_text does not occur in ${path}; read the file and quote it exactly`
          : `old_text occurs ${count} times in ${path}; quote more of its surroundings so it ` +
              'occurs once',
      );
    }
    const at = text.indexOf(oldText);
    const updated = text.slice(0, at) + newText + text.slice(at + oldText.length);
    await client.writeFile(path, Buffer.from(updated, 'utf8'), signal);
    return ok(`replaced 1 occurrence in ${path}`);
  }

  private async auditRefusal(call: CheckedCall, reason: string): Promise<void> {
    const { task } = this.options;
    await this.options.audit
      .append({
        actor: agentActor(task),
        action: 'access.denied',
        target: { kind: 'environment', id: task.environmentId },
        outcome: 'denied',
        requestId: `agent-${call.id}`.slice(0, 100),
        sourceAddress: '',
        details: { tool: call.name, taskId: task.id, reason: reason.slice(0, 500) },
      })
      .catch((error: unknown) =>
        this.options.logger.error(
          { err: error, taskId: task.id },
          'an agent refusal could not be audited',
        ),
      );
  }
}

function listing(entries: FileEntry[]): string {
  if (entries.length === 0) return '(empty)';
  const sorted = [...entries].sort((a, b) => a.name.localeCompare(b.name));
  const lines = sorted.slice(0, maxListedEntries).map((entry) => {
    if (entry.type === 'directory') return `${entry.name}/`;
    if (entry.type === 'symlink') return `${entry.name}@`;
    return `${entry.name}  ${entry.size} bytes`;
  });
  if (sorted.length > maxListedEntries) {
    lines.push(`[${sorted.length - maxListedEntries} more entries not shown]`);
  }
  return lines.join('\n');
}
