/**
 * Reconnect delays: exponential from `baseMs`, capped at `capMs`, with "full jitter" so that many
 * runners restarted together do not reconnect in step:
 *   delay(attempt) = random(0.5, 1) * min(capMs, baseMs * 2^attempt)
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: { baseMs: number; capMs: number; random?: () => number } = {
      baseMs: 500,
      capMs: 30000,
    },
  ) {}

  next(): number {
    const ceiling = Math.min(this.options.capMs, this.options.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const random = this.options.random ?? Math.random;
    return Math.round(ceiling * (0.5 + random() / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
