import type { Condition } from '@hangar/api';
import type { DevcontainerConfig } from '../devcontainer/index.js';

/**
 * Maps what a devcontainer asks to run (an image, a Dockerfile build, a compose service) to a
 * root file system this runner has. Until real images arrive, every request maps to the host's
 * system directories, and the condition says so plainly.
 */
export function resolveRootImage(config: DevcontainerConfig | undefined): Condition {
  const asked = describeRequest(config);
  if (!asked) {
    return {
      type: 'ImageResolved',
      status: 'true',
      reason: 'HostImage',
      message: 'no image was asked for; the host system directories are the root file system',
    };
  }
  return {
    type: 'ImageResolved',
    status: 'false',
    reason: 'HostImageSubstituted',
    message:
      `${asked} is not in this runner's image catalogue; the host system directories ` +
      '(read-only) are used as the root file system instead, so its tools and versions may differ',
  };
}

function describeRequest(config: DevcontainerConfig | undefined): string | undefined {
  if (!config) return undefined;
  if (config.image) return `image ${config.image}`;
  const dockerfile = config.build?.dockerfile ?? config.dockerFile;
  if (dockerfile) return `the Dockerfile ${dockerfile}`;
  if (config.dockerComposeFile) return `the compose service ${config.service ?? '(unnamed)'}`;
  return undefined;
}
