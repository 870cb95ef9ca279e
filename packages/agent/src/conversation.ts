/**
 * The conversation as the loop keeps it, the same for every model API; each client maps it to
 * its own wire format.
 */

/** One tool call as the model made it; `arguments` is the raw JSON text, not yet trusted. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type Message =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls: ToolCall[] }
  | { role: 'tool'; callId: string; name: string; content: string; isError: boolean };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What one model turn produced. `usage` is absent when the server did not report it. */
export interface ModelTurn {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage | undefined;
  stopReason: string | undefined;
}

/** A tool as offered to the model: a name, what it does, and a JSON schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: {
    type: 'object';
    properties: Record<string, ParameterSpec>;
    required: string[];
    additionalProperties: false;
  };
}

export interface ParameterSpec {
  type: 'string' | 'integer';
  description: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

export interface ModelRequest {
  system: string;
  messages: readonly Message[];
  tools: readonly ToolSpec[];
  signal: AbortSignal;
}

/** A model behind one wire protocol. `complete` rejects with a {@link ModelError}. */
export interface ModelClient {
  readonly api: 'openai' | 'anthropic';
  readonly model: string;
  complete(request: ModelRequest): Promise<ModelTurn>;
}
