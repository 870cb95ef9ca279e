import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { HangarError } from '@hangar/api';
import { challengeProof, proofMatches } from '@hangar/envd/auth.js';
import { CHALLENGE_NONCE_BYTES, encodeFrame, FrameType } from '@hangar/envd/protocol.js';
import { Exchange } from './envd-exchange.js';

/** Who envd must prove to be: the environment it serves and that boot's secret. */
export interface EnvdAuth {
  environmentId: string;
  secret: Buffer;
}

/** Linux's O_PATH: a descriptor naming an inode, opened without reading or following it. */
const O_PATH = 0o10000000;

/**
 * The socket's directory is mounted read-write into the sandbox, so whatever sits at
 * `socketPath` was put there by the environment. Its last component is opened without following
 * a symlink and must be a socket; the connection then goes to that very inode through
 * `/proc/self/fd`, so it cannot be swapped between the check and the connect, nor point to a
 * path outside the directory. Returns the descriptor, or undefined when there is no socket there.
 */
function openSocketInode(socketPath: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(socketPath, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (fstatSync(fd).isSocket()) return fd;
  } catch {
    // Treated as no socket below.
  }
  closeSync(fd);
  return undefined;
}

/**
 * One message for every way of not reaching envd (nothing there, not a socket, a symlink, nobody
 * listening, no answer in time), so what the environment put at the path cannot be told apart.
 */
export function envdUnreachable(environmentId: string): HangarError {
  return new HangarError(
    'environment_not_running',
    `envd of environment ${environmentId} is not answering on its socket; ` +
      'start the environment and retry',
  );
}

function envdUnproven(environmentId: string): HangarError {
  return new HangarError(
    'environment_not_running',
    `the socket of environment ${environmentId} answered, but not as that environment's envd ` +
      '(it may have been replaced from inside the environment); nothing was sent to it. Stop ' +
      'and start the environment',
  );
}

/**
 * Connects to envd and checks its proof for a fresh nonce before anything else is sent; resolves
 * with the exchange ready for one request. Rejects with `environment_not_running` otherwise.
 */
export function connectEnvd(options: {
  socketPath: string;
  auth: EnvdAuth;
  timeoutMs: number;
}): Promise<Exchange> {
  const { environmentId, secret } = options.auth;
  const fd = openSocketInode(options.socketPath);
  if (fd === undefined) return Promise.reject(envdUnreachable(environmentId));
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: `/proc/self/fd/${fd}` });
    let ex: Exchange | undefined;
    let settled = false;
    let open = true;
    const release = (): void => {
      if (open) closeSync(fd);
      open = false;
    };
    const fail = (error: HangarError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release();
      if (ex) ex.close();
      else socket.destroy();
      reject(error);
    };
    const succeed = (opened: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(opened);
    };
    const timer = setTimeout(() => fail(envdUnreachable(environmentId)), options.timeoutMs);
    socket.once('error', () => fail(envdUnreachable(environmentId)));
    socket.once('connect', () => {
      release();
      socket.removeAllListeners('error');
      const opened = new Exchange(socket);
      ex = opened;
      const nonce = randomBytes(CHALLENGE_NONCE_BYTES);
      const expected = challengeProof(secret, nonce, environmentId);
      opened.onClose(() => fail(envdUnreachable(environmentId)));
      opened.onFrame((frame) => {
        opened.onFrame(() => undefined);
        const proven = frame.type === FrameType.proof && proofMatches(expected, frame.payload);
        if (proven) succeed(opened);
        else fail(envdUnproven(environmentId));
      });
      opened.write(encodeFrame(FrameType.challenge, nonce));
    });
  });
}
