/**
 * Operators: the steps the scheduler wants a region to take, handed out one at a time in the answers
 * to the region's heartbeats (TinyKV `schedule/operator`). A step is re-sent on every heartbeat until
 * the reported region shows it done (stores must treat duplicates as no-ops, §6.5 item 6), then the
 * next step follows; an operator that does not finish in time is dropped.
 *
 * There are no balance schedulers yet: operators come from `addOperator` (tests, admin tools).
 * Deciding them is a pure function of the cluster state, to be added beside this file.
 */
import type { PeerId, StoreId } from "../protocol/ids.js"
import type { Peer } from "../protocol/metapb.js"
import type { RegionHeartbeatResponse } from "../protocol/scheduler.js"
import type { RegionInfo } from "./regionInfo.js"

export type OperatorStep =
  | { readonly _tag: "AddPeer"; readonly toStore: StoreId; readonly peerId: PeerId }
  | { readonly _tag: "RemovePeer"; readonly fromStore: StoreId }
  | { readonly _tag: "TransferLeader"; readonly fromStore: StoreId; readonly toStore: StoreId }

export type OperatorStatus = "RUNNING" | "SUCCESS" | "TIMEOUT"

export interface Operator {
  readonly desc: string
  readonly steps: ReadonlyArray<OperatorStep>
  /** Index of the first step not yet seen done. */
  readonly next: number
  readonly deadlineMs: number
}

/** TinyKV's `RegionOperatorWaitTime`. */
export const OPERATOR_TIMEOUT_MS = 10 * 60 * 1000

const peerOn = (info: RegionInfo, storeId: StoreId): Peer | undefined =>
  info.region.peers.find((p) => p.storeId === storeId)

/** Whether the reported region shows the step done (TinyKV `OpStep.IsFinish`). */
export const isStepDone = (step: OperatorStep, info: RegionInfo): boolean => {
  switch (step._tag) {
    case "AddPeer": {
      const p = peerOn(info, step.toStore)
      return p !== undefined && p.id === step.peerId && !info.pendingPeers.some((q) => q.id === p.id)
    }
    case "RemovePeer":
      return peerOn(info, step.fromStore) === undefined
    case "TransferLeader":
      return info.leader?.storeId === step.toStore
  }
}

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
  }
}

export type Dispatch =
  | { readonly _tag: "Finished"; readonly status: "SUCCESS" | "TIMEOUT" }
  | { readonly _tag: "Running"; readonly operator: Operator; readonly response: RegionHeartbeatResponse | undefined }

/** Advances `op` past the steps the report shows done and says what to send (TinyKV `Dispatch`). */
export const dispatch = (op: Operator, info: RegionInfo, nowMs: number): Dispatch => {
  let next = op.next
  while (next < op.steps.length && isStepDone(op.steps[next]!, info)) next++
  if (next >= op.steps.length) return { _tag: "Finished", status: "SUCCESS" }
  if (nowMs > op.deadlineMs) return { _tag: "Finished", status: "TIMEOUT" }
  const operator = next === op.next ? op : { ...op, next }
  return { _tag: "Running", operator, response: stepResponse(op.steps[next]!, info) }
}
