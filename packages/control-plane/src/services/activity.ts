import type { Context } from '../context.js';

/**
 * Stores the last-active times a runner reports for its environments. A time only ever moves
 * forward, one in the future counts as now (a runner's fast clock cannot keep an environment
 * awake), and only the runner's own environments are touched. Returns how many moved.
 */
export async function ingestActivity(
  context: Context,
  runnerId: string,
  environments: ReadonlyArray<{ environmentId: string; lastActiveAt: string }>,
): Promise<number> {
  const nowMs = Date.now();
  return context.db.transaction(async (tx) => {
    let moved = 0;
    for (const item of environments) {
      const reported = Date.parse(item.lastActiveAt);
      if (Number.isNaN(reported)) continue;
      const time = Math.min(reported, nowMs);
      moved += await tx.execute(
        `UPDATE environments SET last_active_at = ?
         WHERE id = ? AND runner_id = ? AND (last_active_at IS NULL OR last_active_at < ?)`,
        [time, item.environmentId, runnerId, time],
      );
    }
    return moved;
  });
}
