/** The exact bytes a runner signs to prove it holds its key on one connection. */
export function runnerChallengeMessage(nonce: string, runnerId: string): string {
  return `hangar-runner-auth-v1\n${runnerId}\n${nonce}`;
}

/**
 * The exact bytes the control plane signs in its welcome, so that a runner knows it reached the
 * control plane it enrolled with and not whoever answered its connection.
 */
export function controlPlaneWelcomeMessage(options: {
  runnerId: string;
  runnerNonce: string;
  serverNonce: string;
}): string {
  return `hangar-control-plane-auth-v1\n${options.runnerId}\n${options.runnerNonce}\n${options.serverNonce}`;
}
