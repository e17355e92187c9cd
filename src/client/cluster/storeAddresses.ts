/**
 * Store id → address, asked of the scheduler once and cached. Addresses change rarely (a store
 * restarted elsewhere); the client forgets an address when the store cannot be reached there, so
 * the next request asks the scheduler again.
 */
import { Data, Effect } from "effect"
import type { StoreId } from "../../protocol/ids.js"
import type { SchedulerClient, SchedulerClientError } from "../../services/SchedulerClient.js"

/** The store was removed from the cluster (tombstone): its peers will never answer. */
export class StoreRemoved extends Data.TaggedError("StoreRemoved")<{ readonly storeId: StoreId }> {}

export interface StoreAddresses {
  readonly resolve: (storeId: StoreId) => Effect.Effect<string, SchedulerClientError | StoreRemoved>
  /** The cached address of `storeId`, without asking the scheduler. */
  readonly cached: (storeId: StoreId) => string | undefined
  readonly forget: (storeId: StoreId) => void
}

export const makeStoreAddresses = (scheduler: Pick<SchedulerClient["Type"], "getStore">): StoreAddresses => {
  const cache = new Map<StoreId, string>()
  return {
    resolve: (storeId) =>
      Effect.suspend(() => {
        const hit = cache.get(storeId)
        if (hit !== undefined) return Effect.succeed(hit)
        return Effect.flatMap(scheduler.getStore(storeId), (store) => {
          if (store.state === "Tombstone") return Effect.fail(new StoreRemoved({ storeId }))
          cache.set(storeId, store.address)
          return Effect.succeed(store.address)
        })
      }),
    cached: (storeId) => cache.get(storeId),
    forget: (storeId) => {
      cache.delete(storeId)
    }
  }
}
