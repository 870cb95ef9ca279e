/** The exact bytes a runner signs to prove it holds its key on one connection. */
export function runnerChallengeMessage(nonce: string, runnerId: string): string {
  return `hangar-runner-auth-v1\n${runnerId}\n${nonce}`;
}
