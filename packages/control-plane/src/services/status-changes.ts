import { EventEmitter } from 'node:events';

/** Wakes long-polling readers of one environment when its status is written. */
export class StatusChanges {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(environmentId: string): void {
    this.emitter.emit(environmentId);
  }

  wait(environmentId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(environmentId, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.emitter.on(environmentId, done);
    });
  }
}
