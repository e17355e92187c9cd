/**
 * Waiting for a fresh cluster to serve: find the first region's leader through the scheduler and write
 * (then delete) a probe key through it. Used by `tinykv playground` and the process tests.
 */
import { Effect, Layer, Schedule } from "effect"
import { utf8 } from "../protocol/bytes.js"
import { connectScheduler } from "../rpc/schedulerConnection.js"
import { connectStore } from "../rpc/storeConnection.js"
import { SchedulerClient } from "../services/SchedulerClient.js"

const PROBE_KEY = utf8("tinykv:probe")

/** One attempt: fails unless a write through the current leader of the key space's first region succeeds. */
const probe = Effect.gen(function* () {
  const scheduler = yield* SchedulerClient
  const found = yield* scheduler.getRegion(new Uint8Array())
  if (found?.leader === undefined) return yield* Effect.fail("no leader yet" as const)
  const { region, leader } = found
  const store = yield* scheduler.getStore(leader.storeId)
  const conn = yield* connectStore(store.address, { timeout: "2 seconds" })
  const context = { regionId: region.id, regionEpoch: region.regionEpoch, peer: leader }
  yield* conn.call("RawPut", (c) => c.RawPut({ context, key: PROBE_KEY, value: utf8("ok"), cf: "default" }))
  yield* conn.call("RawDelete", (c) => c.RawDelete({ context, key: PROBE_KEY, cf: "default" }))
}).pipe(Effect.scoped)

/** Retries the probe every 200 ms until it succeeds (callers bound it with a timeout). */
export const waitUntilWritable = (schedulerAddress: string) =>
  probe.pipe(
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.provide(
      Layer.orDie(Layer.scoped(SchedulerClient, connectScheduler({ address: schedulerAddress, deadline: "2 seconds" })))
    ),
    Effect.asVoid
  )
