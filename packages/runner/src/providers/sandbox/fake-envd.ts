import { createServer, type Server, type Socket } from 'node:net';
import { challengeProof } from '@hangar/envd/auth.js';
import { encodeFrame, FrameDecoder, FrameType, type Frame } from '@hangar/envd/protocol.js';
import type { EnvdAuth } from './envd-connect.js';

/** How a misbehaving peer on envd's socket answers the client's challenge. */
export type ChallengeAnswer =
  { kind: 'proof'; auth: EnvdAuth } | { kind: 'silence' } | { kind: 'bytes'; bytes: Buffer };

/** A peer that is not envd, for the client's tests: it answers as told and keeps every frame. */
export interface FakeEnvd {
  /** Every frame any client sent, in order. */
  readonly received: Frame[];
  close(): Promise<void>;
}

/**
 * Listens on `path`. After its answer to the challenge, `onRequest` (if any) gets the socket and
 * the next frame; without it the peer reads and says nothing more.
 */
export async function startFakeEnvd(options: {
  path: string;
  answer: ChallengeAnswer;
  onRequest?: (socket: Socket, frame: Frame) => void;
}): Promise<FakeEnvd> {
  const received: Frame[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder();
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        received.push(frame);
        seen += 1;
        if (seen === 1) answer(socket, frame, options.answer);
        else if (seen === 2) options.onRequest?.(socket, frame);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.path, resolve));
  return {
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(socket: Socket, challenge: Frame, how: ChallengeAnswer): void {
  if (how.kind === 'silence') return;
  if (how.kind === 'bytes') {
    socket.write(how.bytes);
    return;
  }
  const proof = challengeProof(how.auth.secret, challenge.payload, how.auth.environmentId);
  socket.write(encodeFrame(FrameType.proof, proof));
}
