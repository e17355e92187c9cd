/**
 * The running operators, at most one per region, and the last finished one of each region (PD
 * `OperatorController`): dispatching steps on heartbeats, expiring the ones that ran out of time or
 * whose region is gone, and what tools list.
 */
import type { RegionId } from "../protocol/ids.js"
import type { OperatorInfo, RegionHeartbeatResponse } from "../protocol/scheduler.js"
import type { StoreId } from "../protocol/ids.js"
import { dispatch, type Operator, type OperatorStatus } from "./operator.js"
import type { RegionInfo } from "./regionInfo.js"

interface Finished {
  readonly op: Operator
  readonly status: OperatorStatus
}

/** What one change of an operator's state was, for the log. */
export interface OperatorEvent {
  readonly regionId: number
  readonly op: Operator
  readonly status: OperatorStatus
}

const toInfo = (regionId: number, op: Operator, status: OperatorStatus): OperatorInfo => ({
  regionId: regionId as RegionId,
  kind: op.kind,
  desc: op.desc,
  status,
  steps: op.steps,
  currentStep: status === "SUCCESS" ? op.steps.length : op.next,
  createdMs: op.createdMs
})

export class OperatorController {
  private readonly running = new Map<number, Operator>()
  private readonly finished = new Map<number, Finished>()
  /** Finished since the last `drainEvents` (the service logs them). */
  private events: Array<OperatorEvent> = []

  get operators(): ReadonlyMap<number, Operator> {
    return this.running
  }

  /** Starts `op` on a region; a running one is replaced (REPLACE), which only admins do. */
  add(regionId: number, op: Operator): void {
    const old = this.running.get(regionId)
    if (old !== undefined) this.finish(regionId, old, "REPLACE")
    this.running.set(regionId, op)
    this.events.push({ regionId, op, status: "RUNNING" })
  }

  /** The step to send with this heartbeat's answer, after advancing or ending the region's operator. */
  dispatch(info: RegionInfo, nowMs: number): RegionHeartbeatResponse | undefined {
    const id = info.region.id
    const op = this.running.get(id)
    if (op === undefined) return undefined
    const d = dispatch(op, info, nowMs)
    if (d._tag === "Finished") {
      this.finish(id, { ...op, next: d.next }, d.status)
      return undefined
    }
    this.running.set(id, d.operator)
    return d.response
  }

  /**
   * Ends operators past their deadline, whose region left the map (merged away), or that still have to
   * add a replica or move the leader to a store that is gone (Down, Tombstone): such a step can never
   * finish, and while it runs the region is busy — the replica checker could not repair it.
   */
  expire(nowMs: number, regionExists: (id: number) => boolean, storeLive: (id: StoreId) => boolean = () => true): void {
    for (const [id, op] of [...this.running]) {
      if (!regionExists(id)) this.finish(id, op, "CANCEL")
      else if (nowMs > op.deadlineMs) this.finish(id, op, "TIMEOUT")
      else if (targetsOf(op).some((s) => !storeLive(s))) this.finish(id, op, "CANCEL")
    }
  }

  get(regionId: number): OperatorInfo | undefined {
    const op = this.running.get(regionId)
    if (op !== undefined) return toInfo(regionId, op, "RUNNING")
    const f = this.finished.get(regionId)
    return f === undefined ? undefined : toInfo(regionId, f.op, f.status)
  }

  /** Running operators, then the last finished one of each other region; each group by region id. */
  list(): ReadonlyArray<OperatorInfo> {
    const byId = <T>(m: ReadonlyMap<number, T>) => [...m.entries()].sort(([a], [b]) => a - b)
    return [
      ...byId(this.running).map(([id, op]) => toInfo(id, op, "RUNNING")),
      ...byId(this.finished)
        .filter(([id]) => !this.running.has(id))
        .map(([id, f]) => toInfo(id, f.op, f.status))
    ]
  }

  drainEvents(): ReadonlyArray<OperatorEvent> {
    const e = this.events
    this.events = []
    return e
  }

  private finish(regionId: number, op: Operator, status: OperatorStatus): void {
    this.running.delete(regionId)
    this.finished.set(regionId, { op, status })
    this.events.push({ regionId, op, status })
  }
}

/** The stores the operator's remaining steps put a replica or the leader on. */
const targetsOf = (op: Operator): ReadonlyArray<StoreId> =>
  op.steps.slice(op.next).flatMap((s) => (s._tag === "AddPeer" || s._tag === "TransferLeader" ? [s.toStore] : []))
