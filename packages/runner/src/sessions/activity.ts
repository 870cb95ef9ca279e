/**
 * The last time each environment saw activity: SSH or terminal input, exec, port traffic, file
 * writes, agent work. Reading (watching logs, listing files, the dashboard) is not activity.
 * The runner reports the times to the control plane, which stops idle environments.
 */
export class ActivityTracker {
  private readonly lastActive = new Map<string, number>();
  private readonly unreported = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  touch(environmentId: string): void {
    this.lastActive.set(environmentId, this.now());
    this.unreported.add(environmentId);
  }

  lastActiveAt(environmentId: string): Date | undefined {
    const time = this.lastActive.get(environmentId);
    return time === undefined ? undefined : new Date(time);
  }

  /** The environments active since the last call, with their times; clears the set. */
  takeUnreported(): Array<{ environmentId: string; lastActiveAt: string }> {
    const batch = [...this.unreported].flatMap((environmentId) => {
      const time = this.lastActive.get(environmentId);
      return time === undefined
        ? []
        : [{ environmentId, lastActiveAt: new Date(time).toISOString() }];
    });
    this.unreported.clear();
    return batch;
  }

  forget(environmentId: string): void {
    this.lastActive.delete(environmentId);
    this.unreported.delete(environmentId);
  }
}
