export { startRunner, type RunningRunner } from './runner.js';
export {
  resolveRunnerConfig,
  runnerDefaults,
  defaultClasses,
  type RunnerConfig,
} from './config.js';
export { createRunnerLogger } from './logger.js';
export { readDevcontainer } from './devcontainer/index.js';
