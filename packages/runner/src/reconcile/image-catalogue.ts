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
      `devcontainer.json asks for ${asked}, which is not in this runner's image catalogue; the ` +
      'host system directories (read-only) are used as the root file system instead, so its ' +
      'tools and versions may differ',
  };
}

function describeRequest(config: DevcontainerConfig | undefined): string | undefined {
  if (!config) return undefined;
  // Only the kind of request is named: the image and file names are repository content.
  if (config.image) return 'an image';
  if (config.build?.dockerfile ?? config.dockerFile) return 'a Dockerfile build';
  if (config.dockerComposeFile) return 'a compose service';
  return undefined;
}
