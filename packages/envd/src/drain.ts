import type { Socket } from 'node:net';

/** Resolves once the socket can take more, or at once when it already can or has closed. */
export function whenDrained(socket: Socket, closed: boolean): Promise<void> {
  if (closed || !socket.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
