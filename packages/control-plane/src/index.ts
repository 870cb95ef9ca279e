export { startControlPlane, type ControlPlane } from './server.js';
export {
  resolveControlPlaneConfig,
  controlPlaneDefaults,
  type ControlPlaneConfig,
} from './config.js';
export { bootstrapOwner, initOwnerIfAbsent, type BootstrapResult } from './services/bootstrap.js';
export { createRunner } from './services/runners.js';
export { createLogger } from './logger.js';
