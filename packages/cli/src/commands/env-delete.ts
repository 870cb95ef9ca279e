import { transitionCommand } from '../env-transition.js';

export const command = transitionCommand({
  verb: 'delete',
  target: 'deleted',
  progress: 'deleting',
  description:
    'Deletes an environment, from any phase: its sandbox and workspace volume are removed from ' +
    'the runner. With --wait, exits 0 once it is gone.',
});
