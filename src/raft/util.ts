/**
 * Small shared definitions of the Raft core: node states, message construction and classification.
 * Mirrors TinyKV `raft/util.go`.
 */
import type { ConfState, Entry, HardState, Message, MessageType, Snapshot } from "../protocol/eraftpb.js"

/** "No node": an unset vote, an unknown leader, no transfer target (TinyKV `None`). */
export const None = 0

/**
 * The role of a Raft node (TinyKV `StateFollower | StateCandidate | StateLeader`, plus etcd's `StatePreCandidate`:
 * a node polling for votes before it starts a real election, only with `Config.preVote`).
 */
export type StateType = "Follower" | "PreCandidate" | "Candidate" | "Leader"

/** Empty payload, shared: entries and snapshots are immutable, so one instance is enough. */
export const EMPTY_DATA: Uint8Array = new Uint8Array(0)

const EMPTY_ENTRIES: ReadonlyArray<Entry> = Object.freeze([])

/** The fields of a `Message` a sender usually sets; everything else defaults to 0 / empty / false. */
export type MessageInit = { readonly msgType: MessageType } & Partial<Omit<Message, "msgType">>

/**
 * Builds a complete `Message` from the fields that matter (the wire type has no optional scalars). `from` and
 * `term` override the init's. Two fixed object shapes (with and without a snapshot) keep the hot path monomorphic.
 */
export const newMessage = (
  init: MessageInit,
  from: number = init.from ?? 0,
  term: number = init.term ?? 0
): Message => {
  const msgType = init.msgType
  const to = init.to ?? 0
  const logTerm = init.logTerm ?? 0
  const index = init.index ?? 0
  const entries = init.entries ?? EMPTY_ENTRIES
  const commit = init.commit ?? 0
  const reject = init.reject ?? false
  const snapshot = init.snapshot
  if (init.transfer === true)
    return { msgType, to, from, term, logTerm, index, entries, commit, reject, transfer: true }
  if (init.context !== undefined)
    return { msgType, to, from, term, logTerm, index, entries, commit, reject, context: init.context }
  return snapshot === undefined
    ? { msgType, to, from, term, logTerm, index, entries, commit, reject }
    : { msgType, to, from, term, logTerm, index, entries, commit, reject, snapshot }
}

/** Builds an `Entry`; `entryType` defaults to `EntryNormal`, `data` to empty. */
export const newEntry = (init: Partial<Entry>): Entry => ({
  entryType: init.entryType ?? "EntryNormal",
  term: init.term ?? 0,
  index: init.index ?? 0,
  data: init.data ?? EMPTY_DATA
})

/** Messages a node sends to itself only; `RawNode.step` refuses them from the network (TinyKV `IsLocalMsg`). */
export const isLocalMsg = (t: MessageType): boolean => t === "MsgHup" || t === "MsgBeat"

/** Replies; `RawNode.step` refuses them from unknown peers (TinyKV `IsResponseMsg`). */
export const isResponseMsg = (t: MessageType): boolean =>
  t === "MsgAppendResponse" ||
  t === "MsgRequestVoteResponse" ||
  t === "MsgHeartbeatResponse" ||
  t === "MsgPreVoteResponse" ||
  t === "MsgReadIndexResp"

/**
 * Message types that never take part in term comparison: they are produced locally (or forwarded verbatim) and
 * carry term 0, or a caller-chosen term that means nothing (TinyKV doc.go: "local messages ... are not term-checked").
 */
export const isTermlessMsg = (t: MessageType): boolean =>
  t === "MsgHup" || t === "MsgBeat" || t === "MsgPropose" || t === "MsgTransferLeader" || t === "MsgReadIndex"

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: 0, commit: 0 })

export const isEmptyHardState = (hs: HardState): boolean => hs.term === 0 && hs.vote === 0 && hs.commit === 0

export const isHardStateEqual = (a: HardState, b: HardState): boolean =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit

export const emptyConfState: ConfState = Object.freeze({ nodes: Object.freeze([]) as ReadonlyArray<number> })

export const emptySnapshot: Snapshot = Object.freeze({
  data: EMPTY_DATA,
  metadata: Object.freeze({ confState: emptyConfState, index: 0, term: 0 })
})

/** A snapshot with index 0 is "no snapshot" (TinyKV `IsEmptySnap`). */
export const isEmptySnap = (s: Snapshot | undefined): boolean => s === undefined || s.metadata.index === 0
