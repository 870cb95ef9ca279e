import { transitionCommand } from '../env-transition.js';

export const command = transitionCommand({
  verb: 'stop',
  target: 'stopped',
  progress: 'stopping',
  description:
    'Stops every process of an environment and keeps its workspace volume. With --wait, ' +
    'exits 0 once it is stopped and 1 if it fails.',
});
