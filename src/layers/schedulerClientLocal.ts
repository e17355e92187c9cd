/**
 * `SchedulerClient` in-process: every call goes straight to a `Scheduler` service (no encoding, no
 * network). Build the `Scheduler` once and provide it to every store's client so they all see one
 * cluster, as they would with a real scheduler process.
 */
import { Effect, Layer } from "effect"
import type { GetRegionResponse } from "../protocol/scheduler.js"
import { Scheduler } from "../scheduler/service.js"
import { type RegionAndLeader, SchedulerClient } from "../services/SchedulerClient.js"

const toRegionAndLeader = (r: GetRegionResponse): RegionAndLeader | undefined =>
  r.region === undefined ? undefined : { region: r.region, leader: r.leader }

/** A client over one scheduler instance; call it once per store, with the same instance. */
export const makeClientLocal = (scheduler: Scheduler["Type"]): SchedulerClient["Type"] => {
  const header = { clusterId: scheduler.clusterId }
  return SchedulerClient.of({
    bootstrap: (store, region) => scheduler.bootstrap({ header, store, region }),
    isBootstrapped: Effect.map(scheduler.isBootstrapped({ header }), (r) => r.bootstrapped),
    allocId: Effect.map(scheduler.allocId({ header }), (r) => r.id),
    putStore: (store) => scheduler.putStore({ header, store }),
    getStore: (storeId) => Effect.map(scheduler.getStore({ header, storeId }), (r) => r.store),
    getAllStores: (options) =>
      Effect.map(
        scheduler.getAllStores({ header, excludeTombstoneStores: options?.excludeTombstones ?? false }),
        (r) => r.stores
      ),
    storeHeartbeat: (stats) => scheduler.storeHeartbeat({ header, stats }),
    regionHeartbeat: (hb) => scheduler.regionHeartbeat({ header, ...hb }),
    getRegion: (key) => Effect.map(scheduler.getRegion({ header, regionKey: key }), toRegionAndLeader),
    getRegionById: (regionId) => Effect.map(scheduler.getRegionById({ header, regionId }), toRegionAndLeader),
    scanRegions: (startKey, endKey, limit = 0) =>
      Effect.map(scheduler.scanRegions({ header, startKey, endKey, limit }), (r) =>
        r.regions.map(({ region, leader }) => ({ region, leader }))
      ),
    askSplit: (region) => scheduler.askSplit({ header, region }),
    reportSplit: (left, right) => scheduler.reportSplit({ header, left, right }),
    tso: (count) => Effect.map(scheduler.tso({ header, count }), (r) => r.timestamp)
  })
}

/** `SchedulerClient` over the `Scheduler` in context (shared by every store built with it). */
export const layerClientLocal: Layer.Layer<SchedulerClient, never, Scheduler> = Layer.effect(
  SchedulerClient,
  Effect.map(Scheduler, makeClientLocal)
)
