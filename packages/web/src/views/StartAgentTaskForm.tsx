import { useId, useState, type FormEvent } from 'react';
import type { StartRequest } from '../agent-start.js';
import { agentTools, type AgentLimits, type AgentTool, type ModelConfig } from '../agent-tasks.js';
import type { Environment } from '../client.js';
import { Link } from '../router.js';
import { ErrorNote } from './common.js';

/** Why a start failed; `taskId` names a task that was created but has no prompt. */
export interface StartError {
  message: string;
  taskId?: string;
}

export interface StartAgentTaskFormProps {
  /** The caller's running environments: the ones a task can start in. */
  environments: Environment[];
  /** The organization's default model, when its policy sets one. */
  organizationModel: ModelConfig | undefined;
  /** The tools the policy allows (absent: all). */
  allowedTools: readonly AgentTool[] | undefined;
  busy: boolean;
  error: StartError | null;
  onStart: (request: StartRequest) => void;
}

const limitFields: { name: keyof AgentLimits; label: string }[] = [
  { name: 'maxSteps', label: 'Max steps (model turns)' },
  { name: 'maxTokens', label: 'Max tokens (input and output, all steps)' },
  { name: 'maxWallTimeS', label: 'Max wall time (seconds)' },
  { name: 'commandTimeoutS', label: 'Command timeout (seconds, each command)' },
];

export type StartFormResult = { ok: true; request: StartRequest } | { ok: false; message: string };

/**
 * Reads the form into a start request. Empty limits are left to the defaults; the tools are
 * left out when every offered one is chosen, so the task gets all the policy allows.
 */
export function startRequestOf(form: FormData, offered: readonly AgentTool[]): StartFormResult {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  const prompt = form.get('prompt');
  if (typeof prompt !== 'string' || prompt.trim() === '') {
    return { ok: false, message: 'Write a prompt: what the agent should do.' };
  }
  const environmentId = text('environmentId');
  if (!environmentId) return { ok: false, message: 'Choose an environment to work in.' };
  const body: StartRequest['body'] = { environmentId };

  if (text('modelSource') !== 'organization') {
    const api = text('modelApi');
    const baseUrl = text('modelUrl');
    const model = text('modelName');
    if ((api !== 'openai' && api !== 'anthropic') || !baseUrl || !model) {
      return {
        ok: false,
        message: "Give the model's API, base URL and name, or choose the organization's model.",
      };
    }
    const keySecret = text('modelKeySecret');
    body.model = { api, baseUrl, model, ...(keySecret ? { keySecret } : {}) };
  }

  const limits: NonNullable<StartRequest['body']['limits']> = {};
  for (const { name, label } of limitFields) {
    const value = text(name);
    if (value === '') continue;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      return { ok: false, message: `${label} must be a whole number above 0.` };
    }
    limits[name] = number;
  }
  if (Object.keys(limits).length > 0) body.limits = limits;

  const chosen = form
    .getAll('tools')
    .filter((tool): tool is AgentTool => offered.includes(tool as AgentTool));
  if (chosen.length === 0) return { ok: false, message: 'Choose at least one tool.' };
  if (chosen.length < offered.length) body.tools = chosen;
  return { ok: true, request: { body, prompt } };
}

function ModelFields({ id, organizationModel }: { id: string; organizationModel?: ModelConfig }) {
  const [source, setSource] = useState(organizationModel ? 'organization' : 'custom');
  return (
    <fieldset>
      <legend>Model</legend>
      {organizationModel ? (
        <div className="choices">
          <input
            type="radio"
            id={`${id}-model-org`}
            name="modelSource"
            value="organization"
            checked={source === 'organization'}
            onChange={() => setSource('organization')}
          />
          <label htmlFor={`${id}-model-org`}>
            The organization&apos;s model: {organizationModel.model} ({organizationModel.api})
          </label>
          <input
            type="radio"
            id={`${id}-model-custom`}
            name="modelSource"
            value="custom"
            checked={source === 'custom'}
            onChange={() => setSource('custom')}
          />
          <label htmlFor={`${id}-model-custom`}>Another model</label>
        </div>
      ) : (
        <input type="hidden" name="modelSource" value="custom" />
      )}
      {source === 'custom' ? (
        <div className="fields">
          <label htmlFor={`${id}-model-api`}>API</label>
          <select id={`${id}-model-api`} name="modelApi" defaultValue="openai">
            <option value="openai">OpenAI-compatible Chat Completions</option>
            <option value="anthropic">Anthropic Messages</option>
          </select>
          <label htmlFor={`${id}-model-url`}>Base URL</label>
          <input id={`${id}-model-url`} name="modelUrl" type="url" required />
          <label htmlFor={`${id}-model-name`}>Model name</label>
          <input id={`${id}-model-name`} name="modelName" type="text" required />
          <label htmlFor={`${id}-model-key`}>Secret holding the model key (optional)</label>
          <input id={`${id}-model-key`} name="modelKeySecret" type="text" />
        </div>
      ) : null}
    </fieldset>
  );
}

/** The form that starts an agent task in one of the caller's running environments. */
export function StartAgentTaskForm(props: StartAgentTaskFormProps) {
  const { environments, organizationModel, allowedTools, busy, error, onStart } = props;
  const id = useId();
  const offered = agentTools.filter((tool) => !allowedTools || allowedTools.includes(tool));
  const [invalid, setInvalid] = useState<string | null>(null);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const read = startRequestOf(new FormData(event.currentTarget), offered);
    setInvalid(read.ok ? null : read.message);
    if (read.ok) onStart(read.request);
  };
  const shown = invalid ? { message: invalid } : error;
  return (
    <form className="create start-agent" onSubmit={submit}>
      <label htmlFor={`${id}-environment`}>Environment</label>
      <select id={`${id}-environment`} name="environmentId" required>
        {environments.map((environment) => (
          <option key={environment.id} value={environment.id}>
            {environment.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-prompt`}>Prompt (sent to the runner only)</label>
      <textarea id={`${id}-prompt`} name="prompt" rows={6} required />
      <ModelFields id={id} organizationModel={organizationModel} />
      <fieldset>
        <legend>Limits (empty: the default)</legend>
        <div className="fields">
          {limitFields.map(({ name, label }) => (
            <span key={name} className="field">
              <label htmlFor={`${id}-${name}`}>{label}</label>
              <input id={`${id}-${name}`} name={name} type="number" min={1} step={1} />
            </span>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Tools</legend>
        <div className="choices">
          {offered.map((tool) => (
            <span key={tool} className="choice">
              <input
                id={`${id}-tool-${tool}`}
                type="checkbox"
                name="tools"
                value={tool}
                defaultChecked
              />
              <label htmlFor={`${id}-tool-${tool}`}>{tool}</label>
            </span>
          ))}
        </div>
      </fieldset>
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start task'}
      </button>
      {shown ? (
        <ErrorNote>
          {shown.message}
          {'taskId' in shown && shown.taskId ? (
            <>
              {' '}
              The task exists without its prompt:{' '}
              <Link href={`/agents/${shown.taskId}`}>stop it</Link>.
            </>
          ) : null}
        </ErrorNote>
      ) : null}
    </form>
  );
}
