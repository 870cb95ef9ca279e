import { posix } from 'node:path';
import type { AgentTool } from '@hangar/api';
import type { CheckedCall } from './tools.js';

/** What a task may do, as the control plane resolved it (task ∩ organization policy). */
export interface ToolRules {
  tools: readonly AgentTool[];
  /** JavaScript regular expressions; a command line that matches one is refused. */
  deniedCommandPatterns: readonly string[];
  /** Globs (`**` any run, `*` any run without `/`); empty: anywhere under the workspace folder. */
  writablePaths: readonly string[];
}

export type PathCheck = { ok: true; path: string } | { ok: false; message: string };

/**
 * The absolute path a tool argument names: relative paths are taken from the workspace folder
 * and normalized; any `..` segment is refused outright rather than folded.
 */
export function resolveToolPath(input: string, workspaceFolder: string): PathCheck {
  if (input.includes('\0')) return { ok: false, message: 'the path contains a NUL byte' };
  if (input.split('/').includes('..')) {
    return {
      ok: false,
      message: `${input}: ".." is not allowed in paths; name the file from the workspace folder`,
    };
  }
  const path = posix.normalize(input.startsWith('/') ? input : posix.join(workspaceFolder, input));
  return { ok: true, path: path.length > 1 ? path.replace(/\/+$/, '') : path };
}

function globSource(glob: string): string {
  let source = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] as string;
    if (glob.startsWith('**/', index)) {
      source += '(?:.*/)?';
      index += 2;
    } else if (glob.startsWith('**', index)) {
      source += '.*';
      index += 1;
    } else if (char === '*') source += '[^/]*';
    else source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return source;
}

/** A writable-path glob as a RegExp over absolute paths. */
export function globPattern(glob: string, workspaceFolder: string): RegExp {
  const absolute = glob.startsWith('/') ? glob : posix.join(workspaceFolder, glob);
  return new RegExp(`^${globSource(posix.normalize(absolute))}$`);
}

const isInside = (path: string, root: string) =>
  path === root || path.startsWith(root === '/' ? '/' : `${root}/`);

/**
 * Checks a tool call against the task's rules before it runs. The refusal says which rule
 * refused it, for the model and for the audit record.
 */
export class ToolPolicy {
  private readonly denied: Array<{ source: string; pattern: RegExp | undefined }>;
  private readonly writable: RegExp[];

  constructor(
    private readonly rules: ToolRules,
    private readonly workspaceFolder: string,
  ) {
    this.denied = rules.deniedCommandPatterns.map((source) => {
      try {
        return { source, pattern: new RegExp(source) };
      } catch {
        return { source, pattern: undefined };
      }
    });
    this.writable = rules.writablePaths.map((glob) => globPattern(glob, workspaceFolder));
  }

  /** Why the call may not run, or undefined when it may. */
  refusal(call: CheckedCall): string | undefined {
    if (call.name !== 'finish' && !this.rules.tools.includes(call.name)) {
      return `the tool ${call.name} is not allowed for this task (allowed: ${this.rules.tools.join(', ')})`;
    }
    if (call.name === 'run_command') return this.commandRefusal(call.args.command);
    if (call.name === 'write_file' || call.name === 'replace_in_file') {
      return this.writeRefusal(call.args.path);
    }
    return undefined;
  }

  // Known gap: patterns see the command line as written; shell quoting or variables can spell
  // a denied program so that no pattern matches. They keep honest mistakes out; the sandbox
  // and the egress policy are the boundary.
  private commandRefusal(command: string): string | undefined {
    for (const { source, pattern } of this.denied) {
      if (!pattern) return `the denied command pattern ${source} does not compile; no command runs`;
      if (pattern.test(command)) {
        return `the command matches the denied command pattern ${source} of the agent policy`;
      }
    }
    return undefined;
  }

  // Known gap: writable paths are checked on the path as named; a symlink under a writable
  // path that points elsewhere in the workspace lets a write land there. envd still keeps every
  // write inside the environment.
  private writeRefusal(input: string): string | undefined {
    const resolved = resolveToolPath(input, this.workspaceFolder);
    if (!resolved.ok) return resolved.message;
    const allowed =
      this.writable.length === 0
        ? isInside(resolved.path, this.workspaceFolder)
        : this.writable.some((pattern) => pattern.test(resolved.path));
    if (allowed) return undefined;
    const where =
      this.writable.length === 0
        ? `the workspace folder ${this.workspaceFolder}`
        : `the writable paths of the agent policy (${this.rules.writablePaths.join(', ')})`;
    return `writing ${resolved.path} is refused: it is outside ${where}`;
  }
}
