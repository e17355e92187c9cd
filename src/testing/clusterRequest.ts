/**
 * TinyKV's `Cluster.Request` for `TestCluster`: a command sent straight to a region leader's Router, found
 * and re-found through the scheduler and the stores' own view, retried until a deadline.
 */
import { Clock, Effect } from "effect"
import type { RegionError, RegionNotFound } from "../protocol/errorpb.js"
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
    let lastError: RegionError | string = "no attempt"
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
