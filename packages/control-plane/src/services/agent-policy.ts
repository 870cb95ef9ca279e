import {
  AgentLimitsSchema,
  HangarError,
  agentTools,
  type AccessOperation,
  type AgentLimits,
  type AgentPolicy,
  type AgentTool,
  type CreateAgentTaskBody,
  type EgressRule,
  type FieldError,
  type ModelConfig,
  type OrgRules,
} from '@hangar/api';
import { Value } from 'typebox/value';

/**
 * The pure half of the agent policy: what a task may use once the organization's rules are
 * applied to what it asks for. Nothing here reads the database.
 */

/** A refusal by one member of the organization policy `agents`, named in full. */
export function agentRefusal(
  policy: `agents.${keyof AgentPolicy}`,
  message: string,
  field?: FieldError,
): HangarError {
  return new HangarError('forbidden', message, {
    details: { policy },
    ...(field ? { fields: [field] } : {}),
  });
}

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** Why a model base URL cannot be used, or null: it must be an http or https URL. */
export function baseUrlProblem(baseUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'must be an http:// or https:// URL such as http://127.0.0.1:8000/v1';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must be an http:// or https:// URL, not ${url.protocol}`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not hold credentials; put the key in a model secret and name it in keySecret';
  }
  return null;
}

/** The task's model: the one it names, else the organization's (`agents.model`). */
export function modelOf(asked: ModelConfig | undefined, policy: AgentPolicy): ModelConfig {
  const model = asked ?? policy.model;
  if (!model) {
    throw invalid(
      'model',
      'is required: the organization policy agents.model names no model; give one ' +
        '(`--model NAME --model-api openai --model-url URL`), or ask an owner or admin to set it',
    );
  }
  const problem = baseUrlProblem(model.baseUrl);
  if (problem) throw invalid('model.baseUrl', problem);
  return model;
}

/**
 * The tools the task gets: those it asks for (all by default), each of which the policy
 * `agents.allowedTools` must allow, or the refusal names the policy.
 */
export function toolsOf(asked: readonly AgentTool[] | undefined, policy: AgentPolicy) {
  const allowed = policy.allowedTools ?? agentTools;
  const wanted = asked ?? agentTools;
  const refused = wanted.filter((tool) => !allowed.includes(tool));
  if (asked !== undefined && refused.length > 0) {
    throw agentRefusal(
      'agents.allowedTools',
      `the organization policy agents.allowedTools does not allow ${refused.join(', ')}; ask ` +
        `only for ${allowed.join(', ') || 'no tool'}, or ask an owner or admin to allow them`,
      { field: 'tools', message: 'names tools agents.allowedTools does not allow' },
    );
  }
  const tools = agentTools.filter((tool) => wanted.includes(tool) && allowed.includes(tool));
  if (tools.length === 0) {
    throw agentRefusal(
      'agents.allowedTools',
      'the organization policy agents.allowedTools allows no tool, so an agent could do ' +
        'nothing; ask an owner or admin to allow some',
      { field: 'tools', message: 'no tool is allowed by agents.allowedTools' },
    );
  }
  return tools;
}

/** The defaults of every limit, as the schema declares them. */
export const defaultAgentLimits: AgentLimits = Value.Create(AgentLimitsSchema);

export function limitsOf(asked: CreateAgentTaskBody['limits']): AgentLimits {
  return { ...defaultAgentLimits, ...asked };
}

/** The egress rule of an environment while an agent task runs in it; absent: none. */
export function agentEgressOf(rules: OrgRules): EgressRule {
  return rules.egress?.agents ?? { mode: 'none' };
}

/** The data-plane operations the tools need; a command-line agent runs as a command. */
export function operationsFor(tools: readonly AgentTool[], kind: 'loop' | 'command') {
  const operations = new Set<AccessOperation>();
  if (kind === 'command') operations.add('exec');
  for (const tool of tools) {
    if (tool === 'run_command' || tool === 'search_files') operations.add('exec');
    if (tool === 'read_file' || tool === 'list_directory') operations.add('files:read');
    if (tool === 'write_file' || tool === 'replace_in_file') operations.add('files:write');
  }
  return [...operations];
}

/** Why a writable path pattern cannot be used, or null. */
function writablePathProblem(path: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  if (path.split('/').includes('..')) return 'must not contain ".." segments';
  if (path.includes('\\')) return 'must use / between folders, not \\';
  return null;
}

/**
 * Problems of an agent policy that the schema cannot see: denied command patterns that are not
 * regular expressions, writable paths that escape, a model URL that is not http(s). Field paths
 * are those of the request body.
 */
export function agentPolicyProblems(agents: AgentPolicy | null | undefined): FieldError[] {
  if (!agents) return [];
  const problems: FieldError[] = [];
  (agents.deniedCommandPatterns ?? []).forEach((pattern, index) => {
    try {
      new RegExp(pattern);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push({
        field: `agents.deniedCommandPatterns.${index}`,
        message: `is not a JavaScript regular expression (${reason})`,
      });
    }
  });
  (agents.writablePaths ?? []).forEach((path, index) => {
    const problem = writablePathProblem(path);
    if (problem) problems.push({ field: `agents.writablePaths.${index}`, message: problem });
  });
  const problem = agents.model ? baseUrlProblem(agents.model.baseUrl) : null;
  if (problem) problems.push({ field: 'agents.model.baseUrl', message: problem });
  return problems;
}
