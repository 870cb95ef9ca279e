import { chmodSync, realpathSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { challengeProof } from './auth.js';
import type { EnvdConfig } from './config.js';
import { Connection } from './connection.js';
import { EnvdError, isErrno } from './errors.js';
import { ExecSession, parseExecRequest } from './exec.js';
import { handleListDir, handleReadFile, WriteSession } from './file-handlers.js';
import type { PathRules } from './paths.js';
import { handleListPorts } from './ports.js';
import {
  handleAttach,
  handleListProcesses,
  handleSignal,
  handleSpawn,
  handleWait,
} from './process-handlers.js';
import { ProcessTable } from './processes.js';
import {
  CHALLENGE_NONCE_BYTES,
  decodeJson,
  FrameType,
  PROTOCOL_VERSION,
  type Frame,
  type PongBody,
} from './protocol.js';
import { handleTcpConnect } from './tcp.js';

export interface EnvdServer {
  readonly socketPath: string;
  /** Stops accepting, ends every running command's and process's group, closes connections. */
  close(): Promise<void>;
}

function realRoots(roots: string[]): string[] {
  return roots.map((root) => {
    try {
      return realpathSync(root);
    } catch {
      return root;
    }
  });
}

/** Listens on `config.socketPath` (a stale socket file there is replaced). */
export async function startEnvdServer(config: EnvdConfig): Promise<EnvdServer> {
  const rules: PathRules = {
    workspaceFolder: config.workspaceFolder,
    roots: realRoots(config.roots),
  };
  const secret = Buffer.from(config.authSecret, 'hex');
  const sessions = new Set<ExecSession>();
  const processes = new ProcessTable(config);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(new Connection(socket), { config, rules, sessions, processes, secret });
  });
  try {
    unlinkSync(config.socketPath);
  } catch (error: unknown) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  await listen(server, config.socketPath);
  chmodSync(config.socketPath, 0o600);
  return {
    socketPath: config.socketPath,
    close: () => {
      processes.closeAll();
      return closeServer(server, sessions, sockets);
    },
  };
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server, sessions: Set<ExecSession>, sockets: Set<Socket>) {
  return new Promise<void>((resolve) => {
    for (const session of sessions) session.kill();
    server.close(() => resolve());
    for (const socket of sockets) socket.end();
    setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, 200).unref();
  });
}

interface ServeContext {
  config: EnvdConfig;
  rules: PathRules;
  sessions: Set<ExecSession>;
  processes: ProcessTable;
  secret: Buffer;
}

/**
 * The connection opens with the client's challenge, which envd answers with its proof; the next
 * frame names the one request. A request that takes more frames (exec, writeFile, attach,
 * tcpConnect) installs its own handler, and frames after any other request are ignored.
 */
function serveConnection(conn: Connection, context: ServeContext): void {
  conn.onFrame((challenge) => {
    answerChallenge(conn, challenge, context);
    conn.onFrame((frame) => {
      conn.onFrame(() => undefined);
      try {
        dispatch(conn, frame, context)?.catch((error: unknown) => conn.fail(error));
      } catch (error: unknown) {
        conn.fail(error);
      }
    });
  });
}

function answerChallenge(conn: Connection, frame: Frame, context: ServeContext): void {
  if (frame.type !== FrameType.challenge) {
    throw new EnvdError(
      'invalid_request',
      `a connection must open with a challenge, not frame 0x${frame.type.toString(16)}`,
    );
  }
  if (frame.payload.length !== CHALLENGE_NONCE_BYTES) {
    throw new EnvdError(
      'invalid_request',
      `a challenge carries a ${CHALLENGE_NONCE_BYTES}-byte nonce, not ${frame.payload.length}`,
    );
  }
  const proof = challengeProof(context.secret, frame.payload, context.config.environmentId);
  conn.send(FrameType.proof, proof);
}

function dispatch(conn: Connection, frame: Frame, context: ServeContext): Promise<void> | void {
  switch (frame.type) {
    case FrameType.ping: {
      const body: PongBody = { protocolVersion: PROTOCOL_VERSION };
      conn.sendJson(FrameType.pong, body);
      conn.end();
      return;
    }
    case FrameType.exec: {
      const request = parseExecRequest(decodeJson(frame));
      const session = new ExecSession(conn, request, context.config, () =>
        context.sessions.delete(session),
      );
      context.sessions.add(session);
      try {
        session.start();
      } catch (error: unknown) {
        context.sessions.delete(session);
        throw error;
      }
      return;
    }
    case FrameType.readFile:
      return handleReadFile(conn, decodeJson(frame), context.rules);
    case FrameType.writeFile:
      new WriteSession(conn, decodeJson(frame), context.rules).start();
      return;
    case FrameType.listDir:
      handleListDir(conn, decodeJson(frame), context.rules);
      return;
    case FrameType.spawn:
      handleSpawn(conn, decodeJson(frame), context.processes);
      return;
    case FrameType.attach:
      handleAttach(conn, decodeJson(frame), context.processes);
      return;
    case FrameType.listProcesses:
      handleListProcesses(conn, context.processes);
      return;
    case FrameType.signal:
      handleSignal(conn, decodeJson(frame), context.processes);
      return;
    case FrameType.wait:
      handleWait(conn, decodeJson(frame), context.processes);
      return;
    case FrameType.tcpConnect:
      handleTcpConnect(conn, decodeJson(frame));
      return;
    case FrameType.listPorts:
      handleListPorts(conn);
      return;
    default:
      throw new EnvdError(
        'invalid_request',
        `a connection must open with a request, not frame 0x${frame.type.toString(16)}`,
      );
  }
}
