/**
 * The simulator's nemesis: a seeded schedule of faults on a `TestCluster` — partitions (a minority cut off,
 * or one direction of one link), message loss, delays that reorder, duplication, store crashes that lose
 * every unsynced write, power losses of a majority at once (each store restarts at once, with only what it
 * had synced), slow disks, scheduler restarts (a crash of its process: what it had not synced is lost),
 * leader transfers and conf changes (a replica removed, or added back), and with raft logs of their own, crashes
 * inside a write's after-data window (`testing/afterDataTrap.ts`) — with a heal now and then. At most a minority of stores is down at once, so the cluster can always make progress
 * once the network heals; safety must hold whatever happens.
 */
import { Clock, Effect } from "effect"
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
  | "power-loss"
  | "arm-after-data"
  | "crash-after-data"
  | "slow-disk"
  | "stall"
  | "scheduler-restart"
  | "heal"
  | "transfer-leader"
  | "conf-change"

export interface NemesisLog {
  readonly faults: Array<{ readonly atMs: number; readonly kind: FaultKind; readonly detail: string }>
}

/** What the nemesis keeps between faults. */
export interface NemesisState {
  /** Crashed stores, not yet restarted. */
  readonly down: Set<StoreId>
  /** The minority of the last partition, until a heal: a power loss then hits the side that kept working. */
  cutOff: ReadonlyArray<StoreId> | undefined
  /** Virtual milliseconds every engine write of a store takes (see `slowDisk.ts`); a heal clears it. */
  readonly slowDisk: Map<StoreId, number>
  /** Virtual time (ms) until which a store's writes wait, stopping its RaftWorker (see `slowDisk.ts`). */
  readonly stalledUntil: Map<StoreId, number>
}

export const emptyNemesisState = (): NemesisState => ({
  down: new Set(),
  cutOff: undefined,
  slowDisk: new Map(),
  stalledUntil: new Map()
})

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

/**
 * A power loss of a majority at once: each store crashes, losing every write it had not synced, and starts
 * again at once. While a minority is cut off, the majority that kept committing without it loses power, so
 * the minority's older log is all that survives of whatever was not durable: a store that acknowledged
 * before its fsync then loses acknowledged writes. Otherwise the leader of a random region is among the
 * victims. A crashed store is left as it is.
 */
const powerLoss = (
  cluster: TestCluster,
  random: SimRandom,
  state: NemesisState,
  note: (victims: ReadonlyArray<StoreId>) => void
) =>
  Effect.gen(function* () {
    const ids = cluster.storeIds
    const majority = Math.floor(ids.length / 2) + 1
    let victims: Array<StoreId>
    if (state.cutOff !== undefined) {
      const cut = state.cutOff
      victims = ids.filter((id) => !cut.includes(id))
    } else {
      const regions = yield* schedulerRegions(cluster)
      const leader = regions.length === 0 ? undefined : regions[random.int(regions.length)]!.leader?.storeId
      const first = leader !== undefined && ids.includes(leader) ? [leader] : []
      victims = [
        ...first,
        ...pick(
          random,
          ids.filter((id) => !first.includes(id)),
          majority - first.length
        )
      ]
    }
    victims = victims.filter((id) => !state.down.has(id))
    if (victims.length === 0) return
    // logged and marked down first: the run's end may interrupt this between a crash and its restart
    note(victims)
    for (const id of victims) {
      state.down.add(id)
      yield* cluster.crashStore(id)
    }
    for (const id of victims) {
      yield* cluster.startStore(id)
      state.down.delete(id)
    }
  })

/**
 * Crashes every store whose armed trap holds a write in its after-data window (the write's data durable, its log
 * ops not), while a minority is down; lets the write go on otherwise.
 */
const crashCaught = (
  cluster: TestCluster,
  state: NemesisState,
  maxDown: number,
  note: (kind: FaultKind, detail: string) => void
) =>
  Effect.gen(function* () {
    for (const id of cluster.storeIds) {
      const trap = cluster.afterDataTrap(id)
      if (trap === undefined || !trap.caught) continue
      if (state.down.size < maxDown && !state.down.has(id)) {
        note("crash-after-data", `store ${id}: power lost between a write's data and its log ops`)
        state.down.add(id)
        yield* cluster.crashStore(id)
      } else yield* trap.release()
    }
  })

/** One fault, chosen by `random`, applied to `cluster`; `down` tracks the crashed stores. */
const step = (cluster: TestCluster, random: SimRandom, state: NemesisState, log: NemesisLog, atMs: number) =>
  Effect.gen(function* () {
    const down = state.down
    const ids = cluster.storeIds
    const maxDown = Math.floor((ids.length - 1) / 2)
    const note = (kind: FaultKind, detail: string) => log.faults.push({ atMs, kind, detail })
    yield* crashCaught(cluster, state, maxDown, note)
    const roll = random.next()
    if (roll < 0.15) {
      const minority = pick(random, ids, 1 + random.int(maxDown))
      const rest = ids.filter((id) => !minority.includes(id))
      yield* cluster.partition(minority, rest)
      state.cutOff = minority
      note("partition", `${minority.join(",")} | ${rest.join(",")}`)
    } else if (roll < 0.22) {
      const [from, to] = pick(random, ids, 2)
      yield* cluster.addFilter(Filters.dropRate(1, { from: from!, to: to! }))
      note("one-way", `${from} -> ${to} dropped`)
    } else if (roll < 0.29) {
      const p = 0.05 + random.next() * 0.25
      yield* cluster.dropRate(p)
      note("loss", `${Math.round(p * 100)}%`)
    } else if (roll < 0.36) {
      const ms = 20 + random.int(300)
      const [to] = pick(random, ids, 1)
      yield* cluster.addFilter(Filters.delay(`${ms} millis`, { to: to! }))
      note("delay", `${ms} ms to ${to}`)
    } else if (roll < 0.4) {
      yield* cluster.addFilter(Filters.hook((d) => (random.next() < 0.3 ? [d, d] : true)))
      note("duplicate", "30%")
    } else if (roll < 0.5) {
      const up = ids.filter((id) => !down.has(id))
      if (down.size < maxDown && up.length > 0) {
        const [victim] = pick(random, up, 1)
        const trap = cluster.afterDataTrap(victim!)
        // with raft logs of their own, half of these crashes wait for a write worth crashing in
        if (trap !== undefined && !trap.armed && !trap.caught && random.next() < 0.5) {
          trap.arm()
          note(
            "arm-after-data",
            `store ${victim}: crashes in its next snapshot's, split's or removal's after-data window`
          )
        } else {
          note("crash", `store ${victim} (unsynced writes lost)`)
          down.add(victim!)
          yield* cluster.crashStore(victim!)
        }
      }
    } else if (roll < 0.58) {
      yield* powerLoss(cluster, random, state, (victims) =>
        note("power-loss", `stores ${victims.join(",")} (unsynced writes lost, restarted)`)
      )
    } else if (roll < 0.61) {
      const [id] = pick(random, ids, 1)
      const ms = 5 + random.int(76)
      state.slowDisk.set(id!, ms)
      note("slow-disk", `store ${id}: ${ms} ms per write`)
    } else if (roll < 0.64) {
      // a leader's store, mostly: a stalled leader is what a read lease must survive
      const regions = yield* schedulerRegions(cluster)
      const leader = regions.length === 0 ? undefined : regions[random.int(regions.length)]!.leader?.storeId
      const id = leader !== undefined && ids.includes(leader) ? leader : pick(random, ids, 1)[0]!
      const ms = 300 + random.int(2_700)
      state.stalledUntil.set(id, (yield* Clock.currentTimeMillis) + ms)
      // half the time its links to the other stores go down with it (a paused VM behind a network blip), until a
      // heal: the others elect a new leader while it stands still, and when it resumes nothing from the new
      // leader reaches it to depose it, yet clients still do. Only its lease then stands between them and a
      // stale read (`test/sim/pausedLeader.test.ts` plays this out on purpose)
      const isolated = random.next() < 0.5
      if (isolated) {
        yield* cluster.isolate(id)
        state.cutOff = [id]
      }
      note("stall", `store ${id}: its worker stops for ${ms} ms${isolated ? ", cut off from the other stores" : ""}`)
    } else if (roll < 0.71) {
      for (const id of [...down]) {
        note("restart", `store ${id}`)
        yield* cluster.startStore(id)
        down.delete(id)
      }
    } else if (roll < 0.79) {
      yield* admin(cluster, random, log, atMs, true)
    } else if (roll < 0.87) {
      yield* admin(cluster, random, log, atMs, false)
    } else if (roll < 0.91) {
      yield* cluster.restartScheduler
      note("scheduler-restart", "unsynced writes lost; calls in flight fail")
    } else {
      yield* healNetwork(cluster, state)
      note("heal", "network and disks")
    }
  })

/** Injects a fault every `everyMs` (virtual time) until interrupted; returns nothing, logs to `log`. */
export const runNemesis = (
  cluster: TestCluster,
  random: SimRandom,
  log: NemesisLog,
  state: NemesisState,
  everyMs: number
): Effect.Effect<never, unknown> =>
  Effect.gen(function* () {
    let at = 0
    for (;;) {
      yield* Effect.sleep(`${everyMs} millis`)
      at += everyMs
      // a fault is logged, and a stopped store marked down, before the fault is made: the run's end interrupts
      // this fiber wherever it is, and `healAll` then restarts every store that is not running
      yield* step(cluster, random, state, log, at)
    }
  })

/** No faults on the network, no slow disk (crashed stores stay down). */
const healNetwork = (cluster: TestCluster, state: NemesisState) =>
  Effect.zipRight(
    cluster.clearFilters,
    Effect.sync(() => {
      state.cutOff = undefined
      state.slowDisk.clear()
      state.stalledUntil.clear()
    })
  )

/** Heals everything: no faults on the network, no slow disk, every stopped store restarted. */
export const healAll = (cluster: TestCluster, state: NemesisState, log: NemesisLog, atMs: number) =>
  Effect.gen(function* () {
    yield* healNetwork(cluster, state)
    // a write a trap holds goes on, and no trap is left armed for the final reads
    for (const id of cluster.storeIds) yield* cluster.afterDataTrap(id)?.release() ?? Effect.void
    // every store that is not running, whether or not `down` knew of it
    for (const id of cluster.storeIds) {
      if (cluster.store(id) === undefined) yield* cluster.startStore(id)
      state.down.delete(id)
    }
    log.faults.push({ atMs, kind: "heal", detail: "everything, for the final reads" })
  })
