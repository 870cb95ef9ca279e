import { useEffect, useState } from 'react';
import { isFinalState } from './agent-tasks.js';
import { resultOf, type Client } from './client.js';
import { grantFor } from './gateway.js';
import { appendLines, emptyTranscript, type TranscriptModel } from './transcript.js';
import { followTranscript, type FollowStatus } from './transcript-stream.js';

export interface TranscriptState {
  transcript: TranscriptModel;
  status: FollowStatus;
}

/**
 * Follows the transcript of `taskId` (in `environmentId`) from its runner while the page shows
 * it: lines arrive as the runner writes them, in batches; the stream is opened again with a
 * fresh grant when it drops while the task runs.
 */
export function useTranscript(
  client: Client,
  taskId: string,
  environmentId: string | undefined,
): TranscriptState {
  const [state, setState] = useState<TranscriptState>({
    transcript: emptyTranscript,
    status: { kind: 'connecting' },
  });
  useEffect(() => {
    if (environmentId === undefined) return undefined;
    const stop = new AbortController();
    let transcript = emptyTranscript;
    setState({ transcript, status: { kind: 'connecting' } });
    const isRunning = async () => {
      const task = await resultOf(
        client.GET('/v1/agent-tasks/{id}', { params: { path: { id: taskId } } }),
      );
      return !task.ok || !isFinalState(task.data.state);
    };
    void followTranscript({
      taskId,
      signal: stop.signal,
      isRunning,
      grant: () => grantFor(client, environmentId, ['agent']),
      onLines: (lines) => {
        if (stop.signal.aborted) return;
        transcript = appendLines(transcript, lines);
        setState((previous) => ({ ...previous, transcript }));
      },
      onStatus: (status) => {
        if (!stop.signal.aborted) setState((previous) => ({ ...previous, status }));
      },
    });
    return () => stop.abort();
  }, [client, taskId, environmentId]);
  return state;
}
