/**
 * A replicated store's `Health`: ready once it has started (registered with the scheduler, its peers
 * loaded), is not closed, and every region it holds knows its leader — so a request routed here is
 * served or redirected, not left waiting for an election. Sampling sets the per-store gauges.
 */
import { Effect, Layer } from "effect"
import { sampleStore } from "../raftstore/storeSample.js"
import { Health } from "../services/Health.js"
import type { RaftStore } from "./raftStore.js"

export const makeStoreHealth = (store: RaftStore): Health["Type"] => {
  const sample = Effect.sync(() => sampleStore(store.storeId, store.peers.values()))
  return Health.of({
    service: "store",
    sample: Effect.asVoid(sample),
    ready: Effect.map(sample, (s) => {
      const closed = store.isClosed()
      return {
        ready: !closed && s.withoutLeader === 0,
        detail: {
          storeId: store.storeId,
          closed,
          regions: s.regions,
          leaders: s.leaders,
          regionsWithoutLeader: s.withoutLeader
        }
      }
    })
  })
}

/** A standalone store serves as soon as it listens: it has no regions to wait for. */
export const layerStandaloneHealth: Layer.Layer<Health> = Layer.succeed(
  Health,
  Health.of({
    service: "store",
    sample: Effect.void,
    ready: Effect.succeed({ ready: true, detail: { standalone: true } })
  })
)
