/**
 * An engine whose writes are measured: `tinykv_engine_writes_total` and
 * `tinykv_engine_write_duration_seconds`, both labelled `sync` — with `sync="true"` the histogram is the
 * fsync latency every acknowledged write waits for (one per RaftWorker round).
 */
import { Effect, Layer, Metric, MetricBoundaries, MetricLabel } from "effect"
import { Storage } from "../services/Storage.js"

const writes = Metric.counter("tinykv_engine_writes", {
  description: "engine write batches, by whether they were synced to disk",
  incremental: true
})
const writeDuration = Metric.histogram(
  "tinykv_engine_write_duration_seconds",
  MetricBoundaries.exponential({ start: 0.0001, factor: 2, count: 18 }),
  "time one engine write batch takes; sync=true includes the fsync"
)

const labels = {
  true: [MetricLabel.make("sync", "true")],
  false: [MetricLabel.make("sync", "false")]
} as const

export const meterStorage = (storage: Storage["Type"]): Storage["Type"] => ({
  ...storage,
  write: (ops, options) =>
    Effect.suspend(() => {
      const started = performance.now()
      const tags = labels[options?.sync === true ? "true" : "false"]
      return Effect.tap(storage.write(ops, options), () =>
        Effect.sync(() => {
          writes.unsafeUpdate(1, tags)
          writeDuration.unsafeUpdate((performance.now() - started) / 1000, tags)
        })
      )
    })
})

/** `inner`'s engine, measured. */
export const layerStorageMetered = <E, R>(inner: Layer.Layer<Storage, E, R>): Layer.Layer<Storage, E, R> =>
  Layer.effect(Storage, Effect.map(Storage, meterStorage)).pipe(Layer.provide(inner))
