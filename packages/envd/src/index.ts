export * from './protocol.js';
export type { EnvdConfig } from './config.js';
