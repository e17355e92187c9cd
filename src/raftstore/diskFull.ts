/**
 * A full disk on a raftstore (TiKV's disk-full protection): while the engine reports no room
 * (`Storage.diskFull`), a leader refuses commands that would add data with `DiskFull`, and a follower
 * drops what would grow its log or replace its data (appends carrying entries, snapshots) — the leader
 * sends them again, and the region goes on with the replicas that have room. Reads, deletes, admin
 * commands (membership, leader transfer, split, log compaction), votes and heartbeats go on: the engine
 * keeps a reserve below its hard limit for exactly these. Nothing here is sticky: the next command or
 * message after space is freed goes through.
 */
import { Effect } from "effect"
import { DiskFull } from "../protocol/errorpb.js"
import type { StoreId } from "../protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { diskFull as diskFullGauge, storeLabel } from "./metrics.js"
import type { Peer } from "./peer.js"
import { errorResponse } from "./responses.js"

/** A client command that adds data: a put (a transactional prewrite or commit is one too). */
export const addsData = (request: RaftCmdRequest): boolean =>
  request.adminRequest === undefined && request.requests.some((r) => r._tag === "Put")

/**
 * The answer to a command this store must refuse for want of room, or undefined to propose it. Only a
 * leader refuses: a follower answers NotLeader as ever, which sends the client to the leader.
 */
export const refuseForDiskFull = (
  diskFull: () => string | undefined,
  peer: Peer,
  request: RaftCmdRequest
): RaftCmdResponse | undefined => {
  if (!peer.isLeader || !addsData(request)) return undefined
  const reason = diskFull()
  return reason === undefined ? undefined : errorResponse(new DiskFull({ storeId: peer.storeId, reason }), peer.term)
}

/** Whether a full store drops `m` rather than step it: it would append entries or install a snapshot. */
export const dropForDiskFull = (diskFull: () => string | undefined, m: RaftMessage): boolean => {
  const t = m.message.msgType
  const grows = (t === "MsgAppend" && m.message.entries.length > 0) || t === "MsgSnapshot"
  return grows && diskFull() !== undefined
}

/**
 * At each store heartbeat: sets `tinykv_store_disk_full`, and logs when the store runs out of room or has
 * room again — what an operator watches for. Returns `now`, the state to compare the next one with.
 */
export const reportDiskFull = (
  storeId: StoreId,
  before: string | undefined,
  now: string | undefined
): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    diskFullGauge.unsafeUpdate(now === undefined ? 0 : 1, storeLabel(storeId))
    if (before === undefined && now !== undefined) {
      yield* Effect.logError(`out of disk space (${now}): client writes are refused until space is freed`)
    } else if (before !== undefined && now === undefined) {
      yield* Effect.logInfo("disk space is back: client writes are accepted again")
    }
    return now
  })
