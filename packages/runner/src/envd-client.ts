/**
 * The runner's client for envd. It lives beside the sandbox provider, which is built today while
 * this directory's top-level files are not; this module is the name the rest of the runner uses.
 */
export {
  createEnvdClient,
  DEFAULT_READ_MAX_BYTES,
  type EnvdClientOptions,
} from './providers/sandbox/envd-socket-client.js';
