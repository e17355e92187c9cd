/**
 * The simulator's nemesis: a seeded schedule of faults on a `TestCluster` — partitions (a minority cut off,
 * or one direction of one link), message loss, delays that reorder, duplication, store crashes that lose
 * every unsynced write, leader transfers and conf changes (a replica removed, or added back) — with a heal
 * now and then. At most a minority of stores is down at once, so
 * the cluster can always make progress once the network heals; safety must hold whatever happens.
 */
import { Effect } from "effect"
import * as Filters from "../../layers/transportFilters.js"
import type { StoreId } from "../../protocol/ids.js"
import type { TestCluster } from "../TestCluster.js"
import type { SimRandom } from "./random.js"
import { allocPeer, mustAddPeer, mustRemovePeer, mustTransferLeader, schedulerRegions } from "../clusterAdmin.js"

/** How long a leader transfer or conf change may take before the nemesis stops waiting on it (virtual). */
const ADMIN_WAIT_MS = 3_000

export type FaultKind =
  | "partition"
  | "one-way"
  | "loss"
  | "delay"
  | "duplicate"
  | "crash"
  | "restart"
  | "heal"
  | "transfer-leader"
  | "conf-change"

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

/**
 * A leader transfer or a conf change on a random region, as the scheduler knows it. It runs in the
 * background (bounded by `ADMIN_WAIT_MS`; a failure is part of the chaos) so the faults keep their pace.
 * A region of every store loses one replica; one with fewer gets one back on a store it lacks.
 */
const admin = (cluster: TestCluster, random: SimRandom, log: NemesisLog, atMs: number, transfer: boolean) =>
  Effect.gen(function* () {
    const regions = yield* schedulerRegions(cluster)
    if (regions.length === 0) return
    const { region } = regions[random.int(regions.length)]!
    const target = region.peers[random.int(region.peers.length)]
    const lacking = cluster.storeIds.filter((id) => !region.peers.some((p) => p.storeId === id))
    const addTo = lacking.length > 0 ? lacking[random.int(lacking.length)] : undefined
    let change: Effect.Effect<void, unknown>
    if (transfer) {
      if (target === undefined) return
      log.faults.push({ atMs, kind: "transfer-leader", detail: `region ${region.id} to store ${target.storeId}` })
      change = mustTransferLeader(cluster, region.id, target, ADMIN_WAIT_MS)
    } else if (addTo !== undefined) {
      log.faults.push({ atMs, kind: "conf-change", detail: `region ${region.id}: add a peer on store ${addTo}` })
      change = Effect.flatMap(allocPeer(cluster, addTo), (peer) => mustAddPeer(cluster, region.id, peer, ADMIN_WAIT_MS))
    } else if (target !== undefined && region.peers.length >= 3) {
      log.faults.push({
        atMs,
        kind: "conf-change",
        detail: `region ${region.id}: remove its peer on store ${target.storeId}`
      })
      change = mustRemovePeer(cluster, region.id, target, ADMIN_WAIT_MS)
    } else return
    yield* Effect.forkDaemon(Effect.ignore(Effect.timeout(change, ADMIN_WAIT_MS)))
  })

/** One fault, chosen by `random`, applied to `cluster`; `down` tracks the crashed stores. */
const step = (cluster: TestCluster, random: SimRandom, down: Set<StoreId>, log: NemesisLog, atMs: number) =>
  Effect.gen(function* () {
    const ids = cluster.storeIds
    const maxDown = Math.floor((ids.length - 1) / 2)
    const note = (kind: FaultKind, detail: string) => log.faults.push({ atMs, kind, detail })
    const roll = random.next()
    if (roll < 0.16) {
      const minority = pick(random, ids, 1 + random.int(maxDown))
      const rest = ids.filter((id) => !minority.includes(id))
      yield* cluster.partition(minority, rest)
      note("partition", `${minority.join(",")} | ${rest.join(",")}`)
    } else if (roll < 0.24) {
      const [from, to] = pick(random, ids, 2)
      yield* cluster.addFilter(Filters.dropRate(1, { from: from!, to: to! }))
      note("one-way", `${from} -> ${to} dropped`)
    } else if (roll < 0.32) {
      const p = 0.05 + random.next() * 0.25
      yield* cluster.dropRate(p)
      note("loss", `${Math.round(p * 100)}%`)
    } else if (roll < 0.4) {
      const ms = 20 + random.int(300)
      const [to] = pick(random, ids, 1)
      yield* cluster.addFilter(Filters.delay(`${ms} millis`, { to: to! }))
      note("delay", `${ms} ms to ${to}`)
    } else if (roll < 0.44) {
      yield* cluster.addFilter(Filters.hook((d) => (random.next() < 0.3 ? [d, d] : true)))
      note("duplicate", "30%")
    } else if (roll < 0.6) {
      const up = ids.filter((id) => !down.has(id))
      if (down.size < maxDown && up.length > 0) {
        const [victim] = pick(random, up, 1)
        yield* cluster.crashStore(victim!)
        down.add(victim!)
        note("crash", `store ${victim} (unsynced writes lost)`)
      }
    } else if (roll < 0.68) {
      for (const id of [...down]) {
        yield* cluster.startStore(id)
        down.delete(id)
        note("restart", `store ${id}`)
      }
    } else if (roll < 0.78) {
      yield* admin(cluster, random, log, atMs, true)
    } else if (roll < 0.88) {
      yield* admin(cluster, random, log, atMs, false)
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
