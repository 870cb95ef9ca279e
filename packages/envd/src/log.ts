/** envd's log: one JSON object a line on stderr, which the runner keeps in the sandbox's log. */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: object = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  process.stderr.write(`${line}\n`);
}
