/**
 * Operators: the steps the scheduler wants a region to take, handed out one at a time in the answers
 * to the region's heartbeats (TinyKV `schedule/operator`). A step is re-sent on every heartbeat until
 * the reported region shows it done (stores must treat duplicates as no-ops), then the
 * next step follows. An operator that does not finish in time is dropped (TIMEOUT), and one whose
 * region changed under it in a way its own steps do not explain is cancelled (CANCEL).
 */
import type { PeerId, StoreId } from "../protocol/ids.js"
import type { Peer, RegionEpoch } from "../protocol/metapb.js"
import type { OperatorKind, RegionHeartbeatResponse } from "../protocol/scheduler.js"
import type { RegionInfo } from "./regionInfo.js"

export type OperatorStep =
  | { readonly _tag: "AddPeer"; readonly toStore: StoreId; readonly peerId: PeerId }
  | { readonly _tag: "RemovePeer"; readonly fromStore: StoreId }
  | { readonly _tag: "TransferLeader"; readonly fromStore: StoreId; readonly toStore: StoreId }
  | { readonly _tag: "SplitRegion"; readonly keys: ReadonlyArray<Uint8Array> }

export type OperatorStatus = "RUNNING" | "SUCCESS" | "TIMEOUT" | "CANCEL" | "REPLACE"

export interface Operator {
  readonly kind: OperatorKind
  readonly desc: string
  readonly steps: ReadonlyArray<OperatorStep>
  /** The region's epoch when the operator was made: what its steps are relative to. */
  readonly epoch: RegionEpoch
  /** Index of the first step not yet seen done. */
  readonly next: number
  readonly createdMs: number
  readonly deadlineMs: number
}

/** TinyKV's `RegionOperatorWaitTime`: moving a replica may need a snapshot of the whole region. */
export const OPERATOR_TIMEOUT_MS = 10 * 60 * 1000
/** PD's `LeaderOperatorWaitTime`: a leader transfer takes an election timeout or two, or never happens. */
export const LEADER_OPERATOR_TIMEOUT_MS = 10 * 1000

const isLeaderOnly = (steps: ReadonlyArray<OperatorStep>): boolean => steps.every((s) => s._tag === "TransferLeader")

export const makeOperator = (
  kind: OperatorKind,
  desc: string,
  steps: ReadonlyArray<OperatorStep>,
  epoch: RegionEpoch,
  nowMs: number
): Operator => ({
  kind,
  desc,
  steps,
  epoch,
  next: 0,
  createdMs: nowMs,
  deadlineMs: nowMs + (isLeaderOnly(steps) ? LEADER_OPERATOR_TIMEOUT_MS : OPERATOR_TIMEOUT_MS)
})

const peerOn = (info: RegionInfo, storeId: StoreId): Peer | undefined =>
  info.region.peers.find((p) => p.storeId === storeId)

/** Whether the reported region shows the step done (TinyKV `OpStep.IsFinish`). */
export const isStepDone = (step: OperatorStep, info: RegionInfo, op: Operator): boolean => {
  switch (step._tag) {
    case "AddPeer": {
      const p = peerOn(info, step.toStore)
      return p !== undefined && p.id === step.peerId && !info.pendingPeers.some((q) => q.id === p.id)
    }
    case "RemovePeer":
      return peerOn(info, step.fromStore) === undefined
    case "TransferLeader":
      return info.leader?.storeId === step.toStore
    case "SplitRegion":
      return info.region.regionEpoch.version > op.epoch.version
  }
}

/** The ConfVer bumps the steps up to and including `upTo` explain (PD `ConfVerChanged`). */
const confVerExplained = (op: Operator, info: RegionInfo, upTo: number): number => {
  let n = 0
  for (let i = 0; i <= upTo && i < op.steps.length; i++) {
    const s = op.steps[i]!
    if (s._tag === "AddPeer" && (i < upTo || peerOn(info, s.toStore)?.id === s.peerId)) n++
    if (s._tag === "RemovePeer" && (i < upTo || peerOn(info, s.fromStore) === undefined)) n++
  }
  return n
}

/**
 * Whether the region moved on without the operator: a membership change its steps do not account
 * for (PD's stale-operator check). The steps were planned on the old membership; carrying on could
 * e.g. remove a replica someone else just added and leave the region under-replicated. A split
 * (version) does not make an operator stale, as in PD: the region keeps its id and its peers on the
 * left half, so adding, removing or moving a replica or the leader still means what it meant — and
 * cancelling would starve a busy region's operators while it keeps splitting.
 */
export const isStale = (op: Operator, info: RegionInfo, next: number): boolean =>
  info.region.regionEpoch.confVer > op.epoch.confVer + confVerExplained(op, info, next)

/** The heartbeat answer that asks the region's leader to take `step`, or `undefined` if it cannot be expressed. */
export const stepResponse = (step: OperatorStep, info: RegionInfo): RegionHeartbeatResponse | undefined => {
  const leader = info.leader
  if (leader === undefined) return undefined
  const base = { regionId: info.region.id, regionEpoch: info.region.regionEpoch, targetPeer: leader }
  switch (step._tag) {
    case "AddPeer":
      return { ...base, changePeer: { peer: { id: step.peerId, storeId: step.toStore }, changeType: "AddNode" } }
    case "RemovePeer": {
      const peer = peerOn(info, step.fromStore)
      return peer === undefined ? undefined : { ...base, changePeer: { peer, changeType: "RemoveNode" } }
    }
    case "TransferLeader": {
      const peer = peerOn(info, step.toStore)
      return peer === undefined ? undefined : { ...base, transferLeader: { peer } }
    }
    case "SplitRegion":
      return { ...base, splitRegion: { keys: step.keys } }
  }
}

export type Dispatch =
  | { readonly _tag: "Finished"; readonly status: "SUCCESS" | "TIMEOUT" | "CANCEL"; readonly next: number }
  | { readonly _tag: "Running"; readonly operator: Operator; readonly response: RegionHeartbeatResponse | undefined }

/** Advances `op` past the steps the report shows done and says what to send (TinyKV `Dispatch`). */
export const dispatch = (op: Operator, info: RegionInfo, nowMs: number): Dispatch => {
  let next = op.next
  while (next < op.steps.length && isStepDone(op.steps[next]!, info, op)) next++
  if (next >= op.steps.length) return { _tag: "Finished", status: "SUCCESS", next }
  if (isStale(op, info, next)) return { _tag: "Finished", status: "CANCEL", next }
  if (nowMs > op.deadlineMs) return { _tag: "Finished", status: "TIMEOUT", next }
  const operator = next === op.next ? op : { ...op, next }
  return { _tag: "Running", operator, response: stepResponse(op.steps[next]!, info) }
}

/** The stores whose replicas the operator's remaining steps add or remove (what the store limit counts). */
export const storesMovingReplicas = (op: Operator): ReadonlyArray<StoreId> => {
  const out = new Set<StoreId>()
  for (const s of op.steps.slice(op.next)) {
    if (s._tag === "AddPeer") out.add(s.toStore)
    if (s._tag === "RemovePeer") out.add(s.fromStore)
  }
  return [...out]
}

/** The stores an operator's remaining steps touch, leader transfers included (a store is not drained while one does). */
export const storesTouched = (op: Operator): ReadonlyArray<StoreId> => {
  const out = new Set<StoreId>()
  for (const s of op.steps.slice(op.next)) {
    if (s._tag === "AddPeer") out.add(s.toStore)
    if (s._tag === "RemovePeer") out.add(s.fromStore)
    if (s._tag === "TransferLeader") {
      out.add(s.fromStore)
      out.add(s.toStore)
    }
  }
  return [...out]
}
