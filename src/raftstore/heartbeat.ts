/**
 * Talking to the scheduler (TinyKV `onSchedulerHeartbeatTick` / `onSchedulerStoreHeartbeatTick`): a
 * leader reports its region, and the operator step the scheduler answers with (a conf change, a leader
 * transfer or a split) goes through the Router to the region's peer as an ordinary admin command. The store reports
 * its stats. Both are calls over the network: the RaftWorker forks them (see `forkBackground`) so that a
 * slow scheduler never holds a round, and a failed call is only logged — the next tick reports again.
 */
import { Deferred, Effect, Option, type Scope } from "effect"
import { compareBytes } from "../protocol/bytes.js"
import type { StoreId } from "../protocol/ids.js"
import type { AdminRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RegionHeartbeatResponse } from "../protocol/scheduler.js"
import type { MailboxClosed, PeerNotFound, Router } from "../services/Router.js"
import type { DiskStats } from "./storeStats.js"
import type { SchedulerClient } from "../services/SchedulerClient.js"
import type { Region } from "../protocol/metapb.js"
import type { Peer } from "./peer.js"
import { proposeSplits, runSplitCheck, type SplitDeps } from "./splitCheckRunner.js"

/** The admin command carrying an operator step, or `undefined` for a step this store does not run. */
const operatorCommand = (op: RegionHeartbeatResponse): AdminRequest | undefined =>
  op.changePeer
    ? { _tag: "ChangePeer", changeType: op.changePeer.changeType, peer: op.changePeer.peer }
    : op.transferLeader
      ? { _tag: "TransferLeader", peer: op.transferLeader.peer }
      : undefined

/**
 * Runs an operator step on its region's peer. Nobody waits for the answer: the next heartbeat shows it.
 * A split step runs like a split check's own split: at the key it names, or (none) where a measure of
 * the region puts its middle.
 */
const dispatchOperator = (
  deps: SplitDeps,
  region: Region,
  op: RegionHeartbeatResponse
): Effect.Effect<void, PeerNotFound | MailboxClosed> => {
  if (op.splitRegion !== undefined) {
    const keys = [...op.splitRegion.keys].sort(compareBytes)
    return keys.length > 0
      ? Effect.asVoid(proposeSplits(deps, region, op.targetPeer, keys))
      : runSplitCheck(deps, { region, leader: op.targetPeer, policy: { _tag: "Half" } })
  }
  const adminRequest = operatorCommand(op)
  if (adminRequest === undefined) return Effect.void
  return Effect.flatMap(Deferred.make<RaftCmdResponse>(), (reply) =>
    deps.router.send(op.regionId, {
      _tag: "RaftCommand",
      request: {
        header: { regionId: op.regionId, peer: op.targetPeer, regionEpoch: op.regionEpoch, term: 0 },
        requests: [],
        adminRequest
      },
      reply
    })
  )
}

/**
 * Reports a leader's region to the scheduler and runs the operator step it answers with. The region,
 * leader, pending peers and size are read now, in the round: the peer is the RaftWorker's alone.
 */
export const regionHeartbeat = (deps: SplitDeps, peer: Peer): Effect.Effect<void> => {
  const region = peer.region
  const heartbeat = {
    region,
    leader: peer.meta,
    pendingPeers: peer.pendingPeers(),
    approximateSize: peer.approximateSize ?? 0
  }
  return deps.scheduler.regionHeartbeat(heartbeat).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: (op) => dispatchOperator(deps, region, op) })),
    Effect.catchAll((e) => Effect.logDebug("region heartbeat failed", e))
  )
}

/**
 * Reports the store's stats. The scheduler answers with the regions led here that have an operator waiting:
 * each is asked to report at once (`ReportToScheduler`), so a sleeping leader, which reports only at its
 * check-ins, gets its operator's step within a store heartbeat.
 */
export const storeHeartbeat = (
  scheduler: SchedulerClient["Type"],
  router: Router["Type"],
  storeId: StoreId,
  regionCount: number,
  disk: Effect.Effect<DiskStats>
): Effect.Effect<void> =>
  disk.pipe(
    Effect.flatMap((d) =>
      scheduler.storeHeartbeat({
        storeId,
        capacity: d.capacity,
        available: d.available,
        regionCount,
        sendingSnapCount: 0,
        receivingSnapCount: 0,
        startTime: 0,
        applyingSnapCount: 0,
        isBusy: false,
        usedSize: d.usedSize
      })
    ),
    Effect.flatMap(({ regionsToReport }) =>
      Effect.forEach(
        regionsToReport,
        // a region no longer here is the scheduler's stale view: its next report from elsewhere corrects it
        (regionId) => Effect.ignore(router.send(regionId, { _tag: "ReportToScheduler" })),
        { discard: true }
      )
    ),
    Effect.catchAll((e) => Effect.logDebug("store heartbeat failed", e))
  )

/**
 * Runs a scheduler call in the background of `scope` (the RaftWorker's). Forked from the uninterruptible
 * round, the fiber itself must be made interruptible, or the store could not stop while a call hangs.
 */
export const forkBackground = (scope: Scope.Scope, call: Effect.Effect<void>): Effect.Effect<void> =>
  call.pipe(Effect.interruptible, Effect.forkIn(scope), Effect.asVoid)
