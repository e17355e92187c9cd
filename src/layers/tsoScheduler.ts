/** `Tso` from the scheduler: a replicated store hands out the cluster's timestamps, not its own. */
import { Effect, Layer } from "effect"
import { StorageError } from "../protocol/errorpb.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { Tso } from "../services/Tso.js"

export const layerTsoScheduler: Layer.Layer<Tso, never, SchedulerClient> = Layer.effect(
  Tso,
  Effect.map(SchedulerClient, (scheduler) =>
    Tso.of({
      next: (count) =>
        scheduler
          .tso(count)
          .pipe(Effect.mapError((e) => new StorageError({ message: `cannot get timestamps: ${e.message}` })))
    })
  )
)
