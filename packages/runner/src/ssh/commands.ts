/**
 * The programs an SSH request runs inside the environment. Like sshd, commands go through the
 * user's own shell (`$SHELL` in the environment, `/bin/sh` when unset) as `shell -c command`,
 * and an interactive session is a login shell. The small `/bin/sh` step reads `$SHELL` where
 * it is set: inside the environment, not on the runner.
 */
export function shellCommand(): string[] {
  return ['/bin/sh', '-c', 'exec "${SHELL:-/bin/sh}" -l'];
}

export function execCommand(command: string): string[] {
  return ['/bin/sh', '-c', 'exec "${SHELL:-/bin/sh}" -c "$1"', 'sh', command];
}

/** Where distributions put OpenSSH's `sftp-server`; Debian's first. */
export const sftpServerPaths = [
  '/usr/lib/openssh/sftp-server',
  '/usr/libexec/openssh/sftp-server',
  '/usr/lib/ssh/sftp-server',
];

/** OpenSSH's own `sftp-server`, run in the environment, so `scp` and `sftp` behave as usual. */
export function sftpCommand(): string[] {
  const script =
    `for p in ${sftpServerPaths.join(' ')}; do [ -x "$p" ] && exec "$p"; done; ` +
    'echo "hangar: this environment has no sftp-server; install openssh-sftp-server" >&2; ' +
    'exit 127';
  return ['/bin/sh', '-c', script];
}

/** Variables a client may set with `SendEnv`/`SetEnv`: the locale and the terminal type. */
export function isAcceptedEnv(name: string, value: string): boolean {
  if (value.length > 256 || /[\0\r\n]/.test(value)) return false;
  return name === 'LANG' || name === 'TERM' || /^LC_[A-Z_]{1,32}$/.test(name);
}

/** `SIGTERM` -> `TERM`: SSH names signals without the prefix. */
export function sshSignalName(signal: string): string {
  return signal.startsWith('SIG') ? signal.slice(3) : signal;
}

const forwardableSignals = new Set(['HUP', 'INT', 'QUIT', 'TERM', 'KILL', 'USR1', 'USR2']);

/** A signal a client may send with a `signal` request, as Node names it; undefined otherwise. */
export function signalFromSsh(name: string): NodeJS.Signals | undefined {
  return forwardableSignals.has(name) ? (`SIG${name}` as NodeJS.Signals) : undefined;
}
