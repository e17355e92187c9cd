/**
 * Splitting a region, the parts that run beside the RaftWorker rather than in its rounds (TinyKV's
 * split-check worker, `onPrepareSplitRegion` and the scheduler task's AskSplit): measure the region on an
 * engine snapshot, tell its peer the size, ask the scheduler for the new region's ids, and propose the
 * split to the leader as an ordinary admin command. Everything here is a network call or a long scan,
 * so the worker forks it (`forkBackground`) and never waits; what it decides reaches the peer through
 * the Router like any other mail, and the split itself is checked again when it applies.
 */
import { Deferred, Effect, Option } from "effect"
import { toHex } from "../protocol/bytes.js"
import type { Peer as PeerMeta, Region } from "../protocol/metapb.js"
import type { RaftCmdResponse } from "../protocol/raftCmd.js"
import type { Router } from "../services/Router.js"
import type { SchedulerClient } from "../services/SchedulerClient.js"
import type { Storage } from "../services/Storage.js"
import { measureRegion, type SplitPolicy } from "./splitCheck.js"

export interface SplitDeps {
  readonly storage: Storage["Type"]
  readonly router: Router["Type"]
  readonly scheduler: SchedulerClient["Type"]
  /** How long to wait for a proposed split to apply before giving up on hearing the outcome. */
  readonly commandTimeoutMs: number
}

/** What a split check works on: the region as its leader saw it when the check was decided. */
export interface SplitJob {
  readonly region: Region
  readonly leader: PeerMeta
  readonly policy: SplitPolicy
}

/**
 * Asks the scheduler for the new region's ids and proposes the split at `splitKey` under `region`'s
 * epoch: a region that changed meanwhile refuses it (EpochNotMatch), and the next check decides again.
 * The left half as applied, or `undefined` when the split was not applied.
 */
export const proposeSplit = (
  deps: SplitDeps,
  region: Region,
  leader: PeerMeta,
  splitKey: Uint8Array
): Effect.Effect<Region | undefined> =>
  Effect.gen(function* () {
    const ids = yield* deps.scheduler.askSplit(region)
    const reply = yield* Deferred.make<RaftCmdResponse>()
    yield* deps.router.send(region.id, {
      _tag: "RaftCommand",
      request: {
        header: { regionId: region.id, peer: leader, regionEpoch: region.regionEpoch, term: 0 },
        requests: [],
        adminRequest: { _tag: "Split", splitKey, newRegionId: ids.newRegionId, newPeerIds: ids.newPeerIds }
      },
      reply
    })
    const response = yield* Deferred.await(reply).pipe(Effect.timeout(`${deps.commandTimeoutMs} millis`))
    const error = response.header.error
    if (error !== undefined) {
      yield* Effect.logDebug(`split not applied: ${error._tag}`)
      return undefined
    }
    yield* Effect.logInfo(`split at key ${toHex(splitKey)}: new region ${ids.newRegionId}`)
    const admin = response.adminResponse
    return admin?._tag === "Split" ? admin.regions[0] : undefined
  }).pipe(
    Effect.catchAll((e) => Effect.as(Effect.logDebug("split not proposed", e), undefined)),
    Effect.annotateLogs({ regionId: region.id })
  )

/**
 * Splits `region` at every key of `splitKeys` (in key order), from the last to the first: each split leaves the
 * parent the left part under the same id and leader, so the next one goes to the same peer under the epoch
 * the previous one gave it. Stops at the first split not applied. How many were applied.
 */
export const proposeSplits = (
  deps: SplitDeps,
  region: Region,
  leader: PeerMeta,
  splitKeys: ReadonlyArray<Uint8Array>
): Effect.Effect<number> =>
  Effect.gen(function* () {
    let parent: Region | undefined = region
    let applied = 0
    for (let i = splitKeys.length - 1; i >= 0 && parent !== undefined; i--) {
      parent = yield* proposeSplit(deps, parent, leader, splitKeys[i]!)
      if (parent !== undefined) applied++
    }
    return applied
  })

/**
 * Measures the region on an engine snapshot (released before anything is proposed), proposes the splits the
 * policy asks for, and then reports the size to its peer — always, so the peer may check again. A split
 * wanted but not applied (the leader moved, the scheduler did not answer) is reported as such: the peer
 * checks again at its next split check tick rather than only after more writes.
 */
export const runSplitCheck = (deps: SplitDeps, job: SplitJob): Effect.Effect<void> =>
  Effect.gen(function* () {
    const measured = yield* Effect.scoped(
      Effect.flatMap(deps.storage.snapshot, (reader) => measureRegion(reader, job.region, job.policy))
    ).pipe(Effect.option)
    const m = Option.getOrUndefined(measured)
    const wanted = m?.splitKeys.length ?? 0
    const applied = wanted > 0 ? yield* proposeSplits(deps, job.region, job.leader, m!.splitKeys) : 0
    yield* deps.router
      .send(job.region.id, {
        _tag: "SplitCheckResult",
        version: job.region.regionEpoch.version,
        size: m?.size,
        keys: m?.keys,
        splitPending: applied < wanted
      })
      .pipe(Effect.ignore)
  })
