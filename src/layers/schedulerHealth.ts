/**
 * The scheduler's `Health`: ready as soon as it serves (this layer is built after its RPC server listens);
 * `/ready` also tells whether a cluster was bootstrapped and how many stores and regions it knows.
 * Sampling sets the cluster gauges (stores by state, regions, running operators).
 */
import { Effect, Layer } from "effect"
import { clusterSnapshot } from "../scheduler/clusterSnapshot.js"
import { sampleCluster } from "../scheduler/metrics.js"
import { Scheduler } from "../scheduler/service.js"
import { Health } from "../services/Health.js"

export const layerSchedulerHealth: Layer.Layer<Health, never, Scheduler> = Layer.effect(
  Health,
  Effect.map(Scheduler, (scheduler) =>
    Health.of({
      service: "scheduler",
      sample: Effect.map(clusterSnapshot(scheduler), (c) =>
        sampleCluster({
          storeStates: c.stores.map((s) => s.status),
          regions: c.regions.length,
          runningOperators: c.operators.filter((o) => o.status === "RUNNING").length
        })
      ),
      ready: Effect.map(clusterSnapshot(scheduler), (c) => ({
        ready: true,
        detail: {
          clusterId: c.clusterId,
          bootstrapped: c.bootstrapped,
          stores: c.stores.length,
          regions: c.regions.length
        }
      }))
    })
  )
)
