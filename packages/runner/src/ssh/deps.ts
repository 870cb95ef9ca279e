import type { GatewayDeps } from '../gateway/deps.js';

/** What the runner asks the control plane about one public key offered for one username. */
export interface SshAuthorizeRequest {
  /** As the client sent it: an environment id, or the key owner's environment name. */
  username: string;
  /** The key's type, such as `ssh-ed25519` or `ssh-rsa`. */
  keyType: string;
  /** The public key blob, base64: what `hangar ssh-key add` registered. */
  publicKey: string;
  sourceAddress: string;
}

/** The control plane's answer: a signed grant for one environment, or a refusal. */
export type SshAuthorization =
  { ok: true; token: string; environmentId: string } | { ok: false; code: string; message: string };

/** What the SSH gateway needs from the rest of the runner. */
export type SshDeps = Pick<
  GatewayDeps,
  | 'identity'
  | 'audit'
  | 'logger'
  | 'envd'
  | 'logCommand'
  | 'remoteEnv'
  | 'workspaceFolder'
  | 'sessions'
  | 'activity'
> & {
  /**
   * Asks the control plane whether the key may open the environment (`connection.authorizeSsh`);
   * rejects when the control plane cannot be asked.
   */
  authorize(request: SshAuthorizeRequest): Promise<SshAuthorization>;
};
