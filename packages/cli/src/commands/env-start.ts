import { transitionCommand } from '../env-transition.js';

export const command = transitionCommand({
  verb: 'start',
  target: 'running',
  progress: 'starting',
  description:
    'Starts a stopped (or failed) environment on its workspace; postStartCommand runs again. ' +
    'With --wait, exits 0 once it runs and 1 if it fails.',
});
