/**
 * The process nemesis's faults, one store at a time: `kill -9` and a restart, `SIGSTOP` and `SIGCONT`, a
 * partition that isolates the store from the other stores (both ways), and a one-way cut where the store
 * still hears the others but they no longer hear it. Half of the faults hit the store the scheduler names
 * as the leader of the first region, so leader and follower faults are both measured.
 *
 * The kinds take turns. Each fault is held for a random while, then undone (restart, resume, heal), then the cluster is left in
 * peace for a random while before the next one; every fault is logged with its times so the availability
 * of each window can be measured.
 */
import { Clock, Effect, Ref } from "effect"
import { layerClientRpc } from "../layers/schedulerClientRpc.js"
import type { LocalCluster } from "../process/index.js"
import { utf8 } from "../protocol/bytes.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import type { SimRandom } from "../testing/sim/random.js"
import type { ProxyMesh } from "./proxyMesh.js"

export const FAULT_KINDS = ["kill", "pause", "partition", "one-way"] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultRecord {
  readonly kind: FaultKind
  readonly store: number
  /** The store led the first region (as the scheduler last heard) when the fault began. */
  readonly leader: boolean
  /** Wall-clock ms: fault injected, fault undone (the restart has listened, the link healed). */
  readonly at: number
  readonly undoneAt: number
}

export interface FaultOptions {
  readonly stores: number
  readonly kinds: ReadonlyArray<FaultKind>
  /** How long a fault is held, at least and at most (ms). */
  readonly holdMs: readonly [number, number]
  /** The calm between a fault's end and the next fault, at least and at most (ms). */
  readonly calmMs: readonly [number, number]
}

const between = (random: SimRandom, [low, high]: readonly [number, number]) => low + random.int(high - low + 1)

/** The store of the first region's leader as the scheduler last heard it, if it knows one. */
const leaderStore = (scheduler: string): Effect.Effect<number | undefined> =>
  Effect.flatMap(SchedulerClient, (s) => s.getRegion(utf8(""))).pipe(
    Effect.map((r) => r?.leader?.storeId),
    Effect.provide(layerClientRpc({ address: scheduler })),
    Effect.timeout("2 seconds"),
    Effect.orElseSucceed(() => undefined)
  )

/** Injects and undoes faults until `stop` holds `true`; every fault is undone before it returns. */
export const runFaults = (
  cluster: LocalCluster,
  mesh: ProxyMesh,
  random: SimRandom,
  options: FaultOptions,
  log: Array<FaultRecord>,
  stop: Ref.Ref<boolean>,
  progress: (line: string) => Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    // the kinds take turns (from a random first one), so even a short run sees each of them
    const first = random.int(options.kinds.length)
    for (let n = 0; !(yield* Ref.get(stop)); n++) {
      yield* Effect.sleep(`${between(random, options.calmMs)} millis`)
      if (yield* Ref.get(stop)) return
      const kind = options.kinds[(first + n) % options.kinds.length]!
      const leader = yield* leaderStore(cluster.scheduler)
      const onLeader = leader !== undefined && random.next() < 0.5
      const store = onLeader ? leader : 1 + random.int(options.stores)
      const name = `store-${store}`
      const hold = between(random, options.holdMs)
      const at = yield* Clock.currentTimeMillis
      const inject = {
        kill: cluster.kill(name),
        pause: cluster.signal(name, "SIGSTOP"),
        partition: mesh.isolate(store),
        "one-way": mesh.silence(store)
      }[kind]
      const undo = {
        // a restart that does not come up is retried: the run must end with every store back
        kill: cluster.startStore(store).pipe(Effect.retry({ times: 3 }), Effect.orDie),
        pause: cluster.signal(name, "SIGCONT"),
        partition: mesh.healAll,
        "one-way": mesh.healAll
      }[kind]
      yield* progress(`${kind} of store ${store}${store === leader ? " (leader)" : ""} for ${hold} ms`)
      // an interrupted run needs no undoing: closing the cluster's scope stops every process, paused or not
      yield* inject
      yield* Effect.sleep(`${hold} millis`)
      yield* undo
      const undoneAt = yield* Clock.currentTimeMillis
      log.push({ kind, store, leader: store === leader, at, undoneAt })
      yield* progress(`  undone after ${undoneAt - at} ms`)
    }
  })
