/** What the RaftWorker runs between two rounds (see `RoundYield`). */
import { Context, Effect } from "effect"

/**
 * Lets timers and socket IO run between rounds. Effect resumes fibers through microtasks, and an
 * in-process cluster (memory transport) keeps every fiber busy in one microtask chain that never
 * reaches the event loop's timer phase: ticks and client deadlines would never fire. A `setImmediate`
 * hop per round costs microseconds and bounds that starvation to one round.
 */
const yieldToEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * What the RaftWorker runs between two rounds. A deterministic simulation under `TestClock` provides
 * `Effect.yieldNow()` instead: there no real timer needs the event loop, and a `setImmediate` hop would
 * interleave with Effect's own scheduler in an order that depends on wall-clock time.
 */
export class RoundYield extends Context.Reference<RoundYield>()("tinykv/raftstore/RoundYield", {
  defaultValue: (): Effect.Effect<void> => yieldToEventLoop
}) {}
