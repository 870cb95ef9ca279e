/**
 * The runner's client for envd, under the name the rest of the runner imports. It speaks the
 * framed protocol of `@hangar/envd/protocol.js` over envd's unix socket; the implementation lives
 * beside the sandbox provider (`providers/sandbox/envd-socket-client.ts`), whose socket it is.
 * Every connection first checks envd's proof for the environment it means (`EnvdAuth`).
 */
export {
  createEnvdClient,
  DEFAULT_READ_MAX_BYTES,
  type EnvdAuth,
  type EnvdClientOptions,
} from './providers/sandbox/envd-socket-client.js';
