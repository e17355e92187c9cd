/** Small helpers shared by the raftstore scenario tests. */
import { assert } from "@effect/vitest"
import { Cause, Clock, type Duration, Effect, Option } from "effect"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Peer, Region } from "../../src/protocol/metapb.js"
import type { RaftCmdRequest, RaftCmdResponse, Request } from "../../src/protocol/raftCmd.js"
import { type EventuallyOptions, eventually } from "../../src/testing/eventually.js"
import type { Peer as RaftstorePeer } from "../../src/raftstore/peer.js"
import { sendRead } from "../../src/raftstore/readSnapshot.js"
import type { PeerMsg, Router } from "../../src/services/Router.js"
import type { TestCluster } from "../../src/testing/TestCluster.js"

export const REGION_1 = 1 as RegionId

/** Waits (`eventually`) until one of `among` (default: every store) leads `regionId`, up to `timeoutMs`; dies otherwise. */
export const waitLeader = (
  cluster: TestCluster,
  regionId: RegionId = REGION_1,
  among: ReadonlyArray<number> = cluster.storeIds,
  timeoutMs = 5_000,
  clock: EventuallyOptions["clock"] = "live"
) =>
  eventually(
    () => {
      for (const id of among) {
        const peer = cluster.store(id as StoreId)?.peers.get(regionId)
        if (peer?.isLeader) return peer.meta
      }
      return false
    },
    {
      what: `a leader of region ${regionId} among stores ${among.join(",")}`,
      timeout: `${timeoutMs} millis`,
      interval: "20 millis",
      clock
    }
  ).pipe(Effect.orDie)

/**
 * Waits (`eventually`) until region 1 has a settled leader: every running store's peer is in the leader's term
 * and follows it. A test that partitions "the leader" must not race an election (a store that was cut off
 * campaigns with ever higher terms and, once it hears from the others again, deposes the leader).
 */
export const waitStableLeader = (
  cluster: TestCluster,
  timeoutMs = 10_000,
  clock: EventuallyOptions["clock"] = "live"
) =>
  eventually(
    () => {
      const peers = cluster.storeIds.flatMap((id) => {
        const p = cluster.store(id as StoreId)?.peers.get(REGION_1)
        return p === undefined ? [] : [p]
      })
      const leaders = peers.filter((p) => p.isLeader)
      const leader = leaders[0]
      return leaders.length === 1 &&
        leader !== undefined &&
        peers.every((p) => p.term === leader.term && p.leaderId === leader.id)
        ? leader.meta
        : false
    },
    { what: "a settled leader of region 1", timeout: `${timeoutMs} millis`, interval: "20 millis", clock }
  ).pipe(Effect.orDie)

/**
 * Asserts that something does NOT happen during `window`: `violation` describes what it sees going wrong, or
 * returns `false` while all is well. An absence has no event to wait for, so unlike `eventually` this needs a
 * bounded observation window; it polls through the whole window and fails on the first violation it observes
 * (a check that fails or dies counts as a violation).
 */
export const neverWithin = <E, R>(
  violation: Effect.Effect<string | false, E, R>,
  options: {
    readonly what: string
    readonly window: Duration.DurationInput
    readonly interval?: Duration.DurationInput
  }
) =>
  Effect.gen(function* () {
    const seen = yield* eventually(
      violation.pipe(Effect.catchAllCause((cause) => Effect.succeed(`the check failed: ${Cause.pretty(cause)}`))),
      { what: options.what, timeout: options.window, interval: options.interval ?? "20 millis" }
    ).pipe(Effect.option)
    if (Option.isSome(seen)) assert.fail(`${options.what}: ${seen.value}`)
  })

/** A command addressed to `peer` (on its store) for region 1, with the region's current epoch on that store. */
export const commandFor = (cluster: TestCluster, peer: Peer, requests: ReadonlyArray<Request>): RaftCmdRequest => {
  const region = cluster.store(peer.storeId)?.peers.get(REGION_1)?.region
  if (region === undefined) throw new Error(`store ${peer.storeId} has no peer of region 1`)
  return { header: { regionId: REGION_1, peer, regionEpoch: region.regionEpoch, term: 0 }, requests }
}

/** Sends a command straight to `peer`'s store (no retry), failing with "timeout" after `timeoutMs`. */
export const sendTo = (cluster: TestCluster, peer: Peer, requests: ReadonlyArray<Request>, timeoutMs = 1_000) =>
  Effect.suspend(() => {
    const store = cluster.store(peer.storeId)
    if (store === undefined) return Effect.dieMessage(`store ${peer.storeId} is not running`)
    return store.router
      .sendCommand(commandFor(cluster, peer, requests))
      .pipe(Effect.timeoutFail({ duration: `${timeoutMs} millis`, onTimeout: () => "timeout" as const }))
  })

/** The value a Get response carries, as text. */
export const getValue = (r: RaftCmdResponse): string | undefined => {
  const g = r.responses[0]
  return g?._tag === "Get" && g.value !== undefined ? fromUtf8(g.value) : undefined
}

const MS = 1_000_000n

/**
 * A clock whose time stands still until the test moves it (`advance`): leases run out exactly when the test
 * says, however slow the machine. Sleeping (the store's ticks) still takes real time.
 */
export const stoppedClock = () => {
  let now = 1_000_000_000n
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => Number(now / MS),
    currentTimeMillis: Effect.sync(() => Number(now / MS)),
    unsafeCurrentTimeNanos: () => now,
    currentTimeNanos: Effect.sync(() => now),
    sleep: (d: Duration.Duration) => Effect.sleep(d).pipe(Effect.withClock(Clock.make()))
  }
  return { clock, advance: (ms: number) => void (now += BigInt(ms) * MS) }
}

export type StoppedClock = ReturnType<typeof stoppedClock>

/** `f` run with a fresh `stoppedClock` as its Clock (the stores it starts time their leases by it). */
export const withStoppedClock = <A, E, R>(f: (time: StoppedClock) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const time = stoppedClock()
    return f(time).pipe(Effect.withClock(time.clock))
  })

/**
 * A `Snap` read that `peer` proposed at `index` in `term` (recorded as `Peer.propose` records it), waiting in a
 * fiber for its answer: the error's tag and the value of `key` in the read's snapshot. The caller drives the
 * rounds that apply it, then joins the fiber.
 */
export const proposedRead = (
  peer: RaftstorePeer,
  command: RaftCmdRequest,
  at: { readonly index: number; readonly term: number },
  key: Uint8Array
) => {
  const router = {
    send: (_: RegionId, msg: PeerMsg) =>
      Effect.sync(() => {
        if (msg._tag === "RaftCommand") peer.proposals.push({ index: at.index, term: at.term, reply: msg.reply })
      })
  } as unknown as Router["Type"]
  return Effect.zipLeft(
    Effect.fork(
      Effect.scoped(
        Effect.map(sendRead(router, command), ({ response, reader }) => ({
          error: response.header.error?._tag,
          value: reader?.get("default", key)
        }))
      )
    ),
    Effect.yieldNow()
  )
}

/** A region of two peers (store 1 and store 2) over the whole key space, at `EPOCH`: the round tests' fixture. */
export const meta = (id: number, store: number): Peer => ({ id: id as PeerId, storeId: store as StoreId })
export const EPOCH = { confVer: 2, version: 1 }
export const REGION: Region = {
  id: 1 as RegionId,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: EPOCH,
  peers: [meta(1, 1), meta(2, 2)]
}
/** A command header from peer 1 of `REGION`, and a `Snap` read with it. */
export const header = { regionId: REGION.id, peer: meta(1, 1), regionEpoch: EPOCH, term: 0 }
export const snapCommand: RaftCmdRequest = { header, requests: [{ _tag: "Snap" }] }
