/**
 * How a leader brings a follower up to date (TinyKV `sendAppend`): the entries from its `next` on, at most
 * `MAX_APPEND_BYTES` of them per message, or a snapshot when they are compacted away.
 */
import type { Entry } from "../protocol/eraftpb.js"
import { isRaftFailure, RaftInvariantError, SnapshotTemporarilyUnavailable, invariant, unavailable } from "./errors.js"
import type { RaftNode } from "./node.js"
import type { Progress } from "./progress.js"
import { isEmptySnap } from "./util.js"

/**
 * The most entry data one MsgAppend carries (at least one entry always goes): a far-behind follower
 * catches up in bounded messages, each far below the transport's 16 MiB frame limit (etcd's
 * `MaxSizePerMsg`). The follower's acknowledgement triggers the next batch.
 */
export const MAX_APPEND_BYTES = 1024 * 1024

const limitSize = (entries: ReadonlyArray<Entry>, max: number): ReadonlyArray<Entry> => {
  let size = 0
  for (let i = 0; i < entries.length; i++) {
    size += entries[i]!.data.length
    if (size > max && i > 0) return entries.slice(0, i)
  }
  return entries
}

/**
 * Sends `to` the entries it is missing, or a snapshot when they are compacted away (TinyKV `sendAppend`).
 * `next` moves optimistically past what was sent, so a proposal burst sends each entry once; a rejection or a
 * heartbeat response brings it back. Returns false if nothing could be sent (snapshot not ready).
 */
export const sendAppend = (r: RaftNode, to: number): boolean => {
  const pr = r.prs.get(to)
  if (pr === undefined) return false
  const log = r.raftLog
  const prevIndex = pr.next - 1
  const prevTerm = log.term(prevIndex)
  if (prevTerm === unavailable)
    throw new RaftInvariantError(`progress of ${to}: next ${pr.next} is past last ${log.lastIndex()}`)
  const last = log.lastIndex()
  const all = typeof prevTerm === "number" ? log.slice(pr.next, last + 1) : undefined
  if (typeof prevTerm !== "number" || all === undefined || isRaftFailure(all)) return sendSnapshot(r, to, pr)
  const entries = limitSize(all, MAX_APPEND_BYTES)
  r.send({ msgType: "MsgAppend", to, index: prevIndex, logTerm: prevTerm, entries, commit: log.committed })
  if (entries.length > 0) pr.next = entries[entries.length - 1]!.index + 1
  return true
}

const sendSnapshot = (r: RaftNode, to: number, pr: Progress): boolean => {
  const snap = r.raftLog.snapshot()
  if (snap instanceof SnapshotTemporarilyUnavailable) return false
  invariant(!isEmptySnap(snap), () => `need a snapshot for ${to} but storage has none`)
  r.send({ msgType: "MsgSnapshot", to, snapshot: snap })
  // Assume it arrives; if it is lost, the next heartbeat response probes from here and falls back to it again.
  pr.next = snap.metadata.index + 1
  return true
}
