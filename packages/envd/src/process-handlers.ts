import { AttachSession } from './attach.js';
import type { Connection } from './connection.js';
import type { ProcessTable } from './processes.js';
import { FrameType, type ProcessListBody } from './protocol.js';
import {
  parseAttachRequest,
  parseProcessRef,
  parseSignalRequest,
  parseSpawnRequest,
} from './requests.js';

export function handleSpawn(conn: Connection, body: unknown, table: ProcessTable): void {
  const managed = table.spawn(parseSpawnRequest(body));
  conn.sendJson(FrameType.result, managed.info());
  conn.end();
}

export function handleAttach(conn: Connection, body: unknown, table: ProcessTable): void {
  const request = parseAttachRequest(body);
  new AttachSession(conn, table.get(request.id), request).start();
}

export function handleListProcesses(conn: Connection, table: ProcessTable): void {
  const body: ProcessListBody = { processes: table.list() };
  conn.sendChunked(FrameType.data, Buffer.from(JSON.stringify(body), 'utf8'));
  conn.send(FrameType.dataEnd);
  conn.end();
}

export function handleSignal(conn: Connection, body: unknown, table: ProcessTable): void {
  const request = parseSignalRequest(body);
  table.get(request.id).signal(request.signal as NodeJS.Signals);
  conn.sendJson(FrameType.result, {});
  conn.end();
}

/** Answers once the process has exited; a client that hangs up first stops waiting. */
export function handleWait(conn: Connection, body: unknown, table: ProcessTable): void {
  const request = parseProcessRef(body, 'wait');
  const stop = table.get(request.id).whenExited((info) => {
    conn.sendJson(FrameType.exited, info);
    conn.end();
  });
  conn.onClose(stop);
}
