/**
 * The coordinator: a fiber in the scheduler's scope that runs one pass of the checkers
 * (`Scheduler.schedule`) every interval, on the Effect clock (so tests drive it with `TestClock`).
 * Operators it starts go out with the regions' next heartbeats.
 *
 * Not part of `layerScheduler` itself: in-process clusters (raftstore tests, the simulator) place
 * their replicas themselves and would be disturbed by balancing they did not ask for; the scheduler
 * process (`layerServer`, `tinykv scheduler`) runs it by default.
 */
import { type Duration, Effect, Layer, Schedule } from "effect"
import { Scheduler } from "./service.js"

/** Runs passes every `interval` until the scope closes; a pass never fails (see `schedule`). */
export const runCoordinator = (interval: Duration.DurationInput) =>
  Effect.flatMap(Scheduler, (s) =>
    s.schedule.pipe(Effect.repeat(Schedule.spaced(interval)), Effect.annotateLogs({ component: "coordinator" }))
  )

/** The coordinator as a layer over the `Scheduler` in context. */
export const layerCoordinator = (interval: Duration.DurationInput): Layer.Layer<never, never, Scheduler> =>
  Layer.scopedDiscard(Effect.forkScoped(runCoordinator(interval)))
