/**
 * envd's log: one JSON object a line on stderr, a pipe whose first MiB the runner keeps in the
 * sandbox's log; the rest is dropped, so a process inside that writes there cannot fill the host.
 */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: object = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  process.stderr.write(`${line}\n`);
}
