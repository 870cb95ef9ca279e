/** Percentile by nearest rank over a sample of durations in milliseconds. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface Figure {
  name: string;
  runs: number;
  p50Ms: number;
  p95Ms: number;
}

export async function measure(
  name: string,
  runs: number,
  once: () => Promise<void>,
): Promise<Figure> {
  await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return { name, runs, p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95) };
}

export function formatFigure(figure: Figure): string {
  const ms = (value: number) => `${value.toFixed(2).padStart(9)} ms`;
  return `${figure.name.padEnd(48)} p50 ${ms(figure.p50Ms)}  p95 ${ms(figure.p95Ms)}  (n=${figure.runs})`;
}

export function formatRatio(label: string, measured: Figure, baseline: Figure): string {
  const ratio = measured.p50Ms / baseline.p50Ms;
  return `${label.padEnd(48)} ${ratio.toFixed(2)}x the baseline at p50`;
}
