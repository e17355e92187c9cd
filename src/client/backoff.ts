/** How client-side retries wait. */
import { type Duration, Schedule } from "effect"

/**
 * Exponential backoff with jitter: the n-th wait is uniform in [d/2, d] for d = min(base·2^n, max),
 * so clients that collided once spread out instead of colliding again.
 */
export const jitteredBackoff = (
  base: Duration.DurationInput,
  max: Duration.DurationInput
): Schedule.Schedule<unknown> =>
  Schedule.exponential(base, 2).pipe(Schedule.union(Schedule.spaced(max)), Schedule.jitteredWith({ min: 0.5, max: 1 }))

/** Between fresh attempts of a whole transaction (`transact`): 2 ms doubling to 100 ms, jittered; `retries` at most. */
export const transactSchedule = (retries: number): Schedule.Schedule<unknown> =>
  Schedule.intersect(jitteredBackoff("2 millis", "100 millis"), Schedule.recurs(retries))
