/**
 * TinyKV's `Cluster.Request` for `TestCluster`: a command sent straight to a region leader's Router, found
 * and re-found through the scheduler and the stores' own view, retried until a deadline.
 */
import { Clock, Effect, Scope } from "effect"
import { compareBytes } from "../protocol/bytes.js"
import { clampToRange, localKeyOf, localRange, physicalOfLocal } from "../protocol/keyspace.js"
import { sendRead } from "../raftstore/readSnapshot.js"
import type { EngineReader } from "../services/Storage.js"
import type { DiskFull, RegionError, RegionNotFound } from "../protocol/errorpb.js"
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { Peer, Region } from "../protocol/metapb.js"
import type { RaftCmdRequest, RaftCmdResponse, Request } from "../protocol/raftCmd.js"
import type { RaftStore } from "../layers/raftStore.js"
import type { Router } from "../services/Router.js"

export class ClusterRequestFailed extends Error {
  readonly _tag = "ClusterRequestFailed"
}

/** What a request needs of the cluster. */
export interface RequestTarget {
  readonly getRegion: (
    key: Uint8Array
  ) => Effect.Effect<{ region: Region; leader: Peer | undefined }, ClusterRequestFailed>
  readonly leaderOf: (regionId: RegionId) => Peer | undefined
  readonly store: (id: StoreId) => RaftStore | undefined
  readonly describe: () => string
}

export const requestOn = (
  self: RequestTarget,
  key: Uint8Array,
  requests: ReadonlyArray<Request>,
  timeoutMs: number,
  send: (router: Router["Type"], command: RaftCmdRequest) => Effect.Effect<RaftCmdResponse, RegionNotFound> = (
    router,
    command
  ) => router.sendCommand(command)
) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    let hint: Peer | undefined
    let lastError: RegionError | DiskFull | string = "no attempt"
    // after a timeout or an unhelpful answer, try the region's peers in turn: the scheduler's leader may
    // be a deposed one cut off in a minority (it keeps reporting itself until it hears a newer term)
    let roundRobin = false
    for (let attempt = 0; (yield* Clock.currentTimeMillis) < deadline; attempt++) {
      const { region, leader } = yield* self.getRegion(key)
      const next = region.peers[attempt % Math.max(1, region.peers.length)]
      // the stores' own view first: the scheduler's leader is whoever reported last, possibly a deposed one
      const target = hint ?? (roundRobin ? next : (self.leaderOf(region.id) ?? leader ?? next))
      hint = undefined
      const store = target ? self.store(target.storeId) : undefined
      if (target === undefined || store === undefined) {
        lastError = "no live leader"
        roundRobin = true
        yield* Effect.sleep("20 millis")
        continue
      }
      const response: RaftCmdResponse | "timeout" | "region not found" = yield* send(store.router, {
        header: { regionId: region.id, peer: target, regionEpoch: region.regionEpoch, term: 0 },
        requests
      }).pipe(
        Effect.timeoutFail({ duration: "1 second", onTimeout: () => "timeout" as const }),
        Effect.catchAll((e) => Effect.succeed(e === "timeout" ? e : ("region not found" as const)))
      )
      if (typeof response === "string") {
        lastError = response
        roundRobin = true
        // a timeout already waited; an immediate RegionNotFound must not spin
        if (response !== "timeout") yield* Effect.sleep("20 millis")
        continue
      }
      const err = response.header.error
      if (err === undefined) return { response, storeId: target.storeId }
      lastError = err
      if (err._tag === "NotLeader" && err.leader !== undefined && err.leader.id !== target.id) hint = err.leader
      else {
        roundRobin = true
        yield* Effect.sleep("20 millis")
      }
    }
    return yield* Effect.fail(
      new ClusterRequestFailed(
        `request timed out after ${timeoutMs} ms; last error: ${typeof lastError === "string" ? lastError : lastError._tag}\n${self.describe()}`
      )
    )
  })

/**
 * `[start, end)` of the raw default CF as of a Snap applied on each region's leader, region by region
 * (TinyKV `Cluster.Scan`), read from the engine snapshot taken in the round that applied the Snap.
 */
export const scanRange = (self: RequestTarget, start: Uint8Array, to: Uint8Array, timeoutMs: number) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const out: Array<{ key: Uint8Array; value: Uint8Array }> = []
    let from = start
    const readers = new WeakMap<RaftCmdResponse, EngineReader>()
    const send = (router: Router["Type"], command: RaftCmdRequest) =>
      Effect.map(Scope.extend(sendRead(router, command), scope), ({ response, reader }) => {
        if (reader !== undefined) readers.set(response, reader)
        return response
      })
    // region by region, as TinyKV walks them by end key
    for (;;) {
      const { response } = yield* requestOn(self, from, [{ _tag: "Snap" }], timeoutMs, send)
      const snap = response.responses[0]
      const reader = readers.get(response)
      if (snap?._tag !== "Snap" || reader === undefined) return yield* Effect.die("no Snap response")
      const regionEnd = snap.region.endKey
      const last = regionEnd.length === 0 || (to.length > 0 && compareBytes(to, regionEnd) <= 0)
      const range = clampToRange(localRange(snap.region, "raw", "default"), from, last ? to : regionEnd)
      for (const kv of reader.scan("default", physicalOfLocal("raw", range))) {
        out.push({ key: localKeyOf(kv.key), value: kv.value })
      }
      if (last) return out
      from = regionEnd
    }
  }).pipe(Effect.scoped)
