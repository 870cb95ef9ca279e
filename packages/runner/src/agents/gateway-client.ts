import type {
  ExecRequest,
  ExecResult,
  FileEntry,
  ProcessDetail,
  ProcessInfoBody,
} from '@hangar/api';

/** A refusal or failure the gateway answered, with its stable code. */
export class GatewayCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'GatewayCallError';
  }
}

export interface GatewayClientOptions {
  /** The gateway on loopback, as this runner listens on it. */
  baseUrl: string;
  environmentId: string;
  /** The agent's current grant; `fresh` asks for a new one (the last was refused as expired). */
  token: (options: { fresh: boolean }) => Promise<string>;
}

export type ExecAnswer = Omit<ExecResult, 'stdout' | 'stderr'> & { stdout: Buffer; stderr: Buffer };

/**
 * The agent's client of its runner's own gateway: every tool call is a request like a person's
 * client makes, with the agent's grant, so the gateway checks and audits it the same way.
 */
export class AgentGatewayClient {
  constructor(private readonly options: GatewayClientOptions) {}

  async exec(request: Omit<ExecRequest, 'stdin'>, signal: AbortSignal): Promise<ExecAnswer> {
    const response = await this.call('POST', 'exec', { json: request, signal });
    const body = (await response.json()) as ExecResult;
    return {
      ...body,
      stdout: Buffer.from(body.stdout, 'base64'),
      stderr: Buffer.from(body.stderr, 'base64'),
    };
  }

  async readFile(path: string, signal: AbortSignal): Promise<Buffer> {
    const response = await this.call('GET', `files?${query({ path })}`, { signal });
    return Buffer.from(await response.arrayBuffer());
  }

  async writeFile(path: string, data: Buffer, signal: AbortSignal): Promise<void> {
    await this.call('PUT', `files?${query({ path })}`, { bytes: data, signal });
  }

  async listDirectory(path: string, signal: AbortSignal): Promise<FileEntry[]> {
    const response = await this.call('GET', `files/list?${query({ path })}`, { signal });
    return ((await response.json()) as { entries: FileEntry[] }).entries;
  }

  async startProcess(
    body: { command: string[]; env?: Record<string, string>; timeoutMs?: number; mask?: boolean },
    signal: AbortSignal,
  ): Promise<ProcessInfoBody> {
    const response = await this.call('POST', 'processes', { json: body, signal });
    return (await response.json()) as ProcessInfoBody;
  }

  async waitProcess(pid: string, timeoutS: number, signal: AbortSignal): Promise<ProcessInfoBody> {
    const response = await this.call('GET', `processes/${pid}/wait?timeoutS=${timeoutS}`, {
      signal,
    });
    return (await response.json()) as ProcessInfoBody;
  }

  /** The process and its output from `fromOffset` on (at most the last `tailBytes` of it). */
  async processDetail(
    pid: string,
    range: { fromOffset: number; tailBytes: number },
    signal: AbortSignal,
  ): Promise<ProcessDetail> {
    const path = `processes/${pid}?${query({
      fromOffset: String(range.fromOffset),
      tailBytes: String(range.tailBytes),
    })}`;
    const response = await this.call('GET', path, { signal });
    return (await response.json()) as ProcessDetail;
  }

  async signalProcess(pid: string, signal: NodeJS.Signals): Promise<void> {
    await this.call('POST', `processes/${pid}/signal`, {
      json: { signal },
      signal: AbortSignal.timeout(5000),
    });
  }

  private async call(
    method: string,
    path: string,
    options: { json?: unknown; bytes?: Buffer; signal: AbortSignal },
  ): Promise<Response> {
    const url = `${this.options.baseUrl}/v1/environments/${this.options.environmentId}/${path}`;
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.options.token({ fresh: attempt > 0 });
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.bytes !== undefined ? { 'content-type': 'application/octet-stream' } : {}),
        },
        ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
        ...(options.bytes !== undefined ? { body: options.bytes } : {}),
        signal: options.signal,
      });
      if (response.ok) return response;
      const error = await errorOf(response);
      // A grant that expired between its check and its use: once more with a fresh one.
      if (error.status === 401 && attempt === 0) continue;
      throw error;
    }
  }
}

const query = (values: Record<string, string>) => new URLSearchParams(values).toString();

async function errorOf(response: Response): Promise<GatewayCallError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      return new GatewayCallError(body.code, body.message, response.status);
    }
  } catch {
    // Not an error body: say what came back.
  }
  return new GatewayCallError(
    'internal',
    `the gateway answered HTTP ${response.status}`,
    response.status,
  );
}
