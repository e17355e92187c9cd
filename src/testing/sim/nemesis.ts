/**
 * The simulator's nemesis: a seeded schedule of faults on a `TestCluster` — partitions (a minority cut off,
 * or one direction of one link), message loss, delays that reorder, duplication, and store crashes that
 * lose every unsynced write — with a heal now and then. At most a minority of stores is down at once, so
 * the cluster can always make progress once the network heals; safety must hold whatever happens.
 */
import { Effect } from "effect"
import * as Filters from "../../layers/transportFilters.js"
import type { StoreId } from "../../protocol/ids.js"
import type { TestCluster } from "../TestCluster.js"
import type { SimRandom } from "./random.js"

export type FaultKind = "partition" | "one-way" | "loss" | "delay" | "duplicate" | "crash" | "restart" | "heal"

export interface NemesisLog {
  readonly faults: Array<{ readonly atMs: number; readonly kind: FaultKind; readonly detail: string }>
}

/** Stores chosen uniformly without replacement. */
const pick = (random: SimRandom, from: ReadonlyArray<StoreId>, n: number): Array<StoreId> => {
  const pool = [...from]
  const out: Array<StoreId> = []
  while (out.length < n && pool.length > 0) out.push(pool.splice(random.int(pool.length), 1)[0]!)
  return out
}

/** One fault, chosen by `random`, applied to `cluster`; `down` tracks the crashed stores. */
const step = (cluster: TestCluster, random: SimRandom, down: Set<StoreId>, log: NemesisLog, atMs: number) =>
  Effect.gen(function* () {
    const ids = cluster.storeIds
    const maxDown = Math.floor((ids.length - 1) / 2)
    const note = (kind: FaultKind, detail: string) => log.faults.push({ atMs, kind, detail })
    const roll = random.next()
    if (roll < 0.2) {
      const minority = pick(random, ids, 1 + random.int(maxDown))
      const rest = ids.filter((id) => !minority.includes(id))
      yield* cluster.partition(minority, rest)
      note("partition", `${minority.join(",")} | ${rest.join(",")}`)
    } else if (roll < 0.3) {
      const [from, to] = pick(random, ids, 2)
      yield* cluster.addFilter(Filters.dropRate(1, { from: from!, to: to! }))
      note("one-way", `${from} -> ${to} dropped`)
    } else if (roll < 0.4) {
      const p = 0.05 + random.next() * 0.25
      yield* cluster.dropRate(p)
      note("loss", `${Math.round(p * 100)}%`)
    } else if (roll < 0.5) {
      const ms = 20 + random.int(300)
      const [to] = pick(random, ids, 1)
      yield* cluster.addFilter(Filters.delay(`${ms} millis`, { to: to! }))
      note("delay", `${ms} ms to ${to}`)
    } else if (roll < 0.55) {
      yield* cluster.addFilter(Filters.hook((d) => (random.next() < 0.3 ? [d, d] : true)))
      note("duplicate", "30%")
    } else if (roll < 0.75) {
      const up = ids.filter((id) => !down.has(id))
      if (down.size < maxDown && up.length > 0) {
        const [victim] = pick(random, up, 1)
        yield* cluster.crashStore(victim!)
        down.add(victim!)
        note("crash", `store ${victim} (unsynced writes lost)`)
      }
    } else if (roll < 0.85) {
      for (const id of [...down]) {
        yield* cluster.startStore(id)
        down.delete(id)
        note("restart", `store ${id}`)
      }
    } else {
      yield* cluster.clearFilters
      note("heal", "network")
    }
  })

/** Injects a fault every `everyMs` (virtual time) until interrupted; returns nothing, logs to `log`. */
export const runNemesis = (
  cluster: TestCluster,
  random: SimRandom,
  log: NemesisLog,
  down: Set<StoreId>,
  everyMs: number
): Effect.Effect<never, unknown> =>
  Effect.gen(function* () {
    let at = 0
    for (;;) {
      yield* Effect.sleep(`${everyMs} millis`)
      at += everyMs
      yield* step(cluster, random, down, log, at)
    }
  })

/** Heals everything: no faults on the network, every crashed store restarted. */
export const healAll = (cluster: TestCluster, down: Set<StoreId>, log: NemesisLog, atMs: number) =>
  Effect.gen(function* () {
    yield* cluster.clearFilters
    for (const id of [...down]) {
      yield* cluster.startStore(id)
      down.delete(id)
    }
    log.faults.push({ atMs, kind: "heal", detail: "everything, for the final reads" })
  })
