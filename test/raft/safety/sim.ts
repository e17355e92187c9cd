/**
 * A randomized cluster simulator for the Raft core: RawNodes over MemoryStorage, driven by one seeded schedule.
 *
 * Each step the schedule picks one action: deliver a few messages (the oldest or any: reordering; possibly dropped
 * or duplicated; dropped across a partition), tick one node or all, process Readies, propose, change membership,
 * transfer leadership, compact a node's log (snapshot), partition or heal, crash a node, restart one, or bounce one
 * (crash and restart at once). 30% of schedules are calm (few faults, no loss), the rest stormy.
 *
 * Durability follows the Ready contract exactly: processing a Ready persists entries, hard state and snapshot to
 * the node's MemoryStorage, then sends the messages, then applies the committed entries (the applied index and
 * the applied sequence are durable together, like the raftstore's apply state). A crash loses everything else:
 * the RawNode, its unpersisted entries and its unsent messages; some crashes hit right after a Ready was persisted
 * and sent but before it was applied. A restart rebuilds the RawNode from storage.
 *
 * The first members are bootstrapped the way the raftstore bootstraps a region: a snapshot at index 5, term 5
 * (so logs start at index 6). A node added later starts empty and uninitialized, and catches up by snapshot.
 * As soon as any node applies `RemoveNode(x)`, x is destroyed (standing in for the raftstore's peer GC).
 *
 * Linearizable reads: now and then a node asks for a ReadIndex (from a stream of its own). Every `ReadState` a
 * Ready hands out must name an index at or above every index committed anywhere before the read was asked for.
 *
 * After the chaos phase the network heals, every crashed node restarts, and the cluster must commit and apply a
 * final proposal on every member within a bounded number of rounds (liveness under good conditions).
 */
import type { ConfChange, HardState, Message } from "../../../src/protocol/eraftpb.js"
import {
  decodeConfChange,
  deriveSeed,
  describeMessage,
  describeReady,
  EMPTY_DATA,
  type InitialState,
  isRaftFailure,
  MemoryStorage,
  mulberry32,
  type Rng,
  RawNode
} from "../../../src/raft/index.js"
import { Checker, checkAppliedPrefixes, entryKey, SafetyViolation } from "./checker.js"

/** MemoryStorage whose ConfState is the applied membership (as the raftstore's region state), not the snapshot's. */
class SimStorage extends MemoryStorage {
  conf: number[] = []
  override initialState(): InitialState {
    return { hardState: super.initialState().hardState, confState: { nodes: this.conf } }
  }
}

interface SimNode {
  readonly id: number
  readonly storage: SimStorage
  rn: RawNode | undefined
  destroyed: boolean
  /** Durable with the state machine: last applied index and the applied entries (keys, from index 6). */
  appliedIndex: number
  appliedLog: string[]
  /** Last index whose committed entry was checked, to check each new commit once. */
  checkedCommit: number
}

export interface ScheduleParams {
  readonly steps: number
}

export interface ScheduleStats {
  readonly seed: number
  readonly nodes: number
  readonly committed: number
  readonly elections: number
  readonly snapshotsSent: number
  readonly restarts: number
  readonly confChanges: number
  readonly finalRounds: number
  readonly maxPool: number
  /** ReadIndex requests answered with a ReadState. */
  readonly readsServed: number
}

const BOOT_INDEX = 5
const BOOT_TERM = 5
const TRACE = 60

export class Sim {
  private readonly rng: Rng
  private readonly nodes = new Map<number, SimNode>()
  private pool: Message[] = []
  private groups: Map<number, number> | undefined = undefined
  private readonly checker = new Checker()
  private readonly snapshots = new Map<number, { index: number; log: string[] }>()
  private readonly trace: string[] = []
  private nextSnapshotId = 1
  private nextPayload = 1
  private nextNodeId: number
  private readonly heartbeatTick: number
  private readonly electionTick: number
  /**
   * Half of the schedules run with PreVote, half with CheckQuorum, half with lazy commit (independently), drawn
   * from their own stream.
   */
  private readonly preVote: boolean
  private readonly checkQuorum: boolean
  private readonly lazyCommit: boolean
  private maxPool = 0
  private dropRate: number
  private dupRate: number
  private readonly maxMembers: number
  /** Probability that a chosen fault action (partition, crash, restart, bounce) really happens. */
  private readonly faults: number
  private stepNo = 0
  private restarts = 0
  private confChanges = 0
  private snapshotsSent = 0
  /** Read requests come from their own stream; a request's context is its number. */
  private readonly readRng: Rng
  private nextRead = 1
  /** Context (read number) -> the highest index committed anywhere when the read was asked for. */
  private readonly readFloors = new Map<number, number>()
  private readsServed = 0

  constructor(
    readonly seed: number,
    private readonly params: ScheduleParams
  ) {
    this.rng = mulberry32(seed)
    const n = this.rng() < 0.5 ? 3 : 5
    this.maxMembers = n + 2
    this.nextNodeId = n + 1
    this.heartbeatTick = this.rng() < 0.5 ? 1 : 2
    this.electionTick = this.rng() < 0.5 ? 5 : 10
    // a separate stream, so adding these flags left every older seed's schedule as it was
    const flags = mulberry32(deriveSeed(seed, 77))
    this.preVote = flags() < 0.5
    this.checkQuorum = flags() < 0.5
    this.lazyCommit = flags() < 0.5
    this.readRng = mulberry32(deriveSeed(seed, 78))
    // 30% of schedules are calm (faults at a fifth of the rate, no loss): long logs, many commits, compactions
    // and membership changes; the rest are stormy.
    this.faults = this.rng() < 0.3 ? 0.2 : 1
    this.dropRate = this.faults < 1 ? 0 : [0, 0.05, 0.2][this.pick(3)]!
    this.dupRate = [0, 0.05][this.pick(2)]!
    const members = Array.from({ length: n }, (_, i) => i + 1)
    const bootSnap = this.registerSnapshot(BOOT_INDEX, [])
    for (const id of members) {
      const storage = new SimStorage()
      storage.applySnapshot({
        data: bootSnap,
        metadata: { index: BOOT_INDEX, term: BOOT_TERM, confState: { nodes: members } }
      })
      storage.setHardState({ term: BOOT_TERM, vote: 0, commit: BOOT_INDEX })
      storage.conf = members
      const node: SimNode = {
        id,
        storage,
        rn: undefined,
        destroyed: false,
        appliedIndex: BOOT_INDEX,
        appliedLog: [],
        checkedCommit: BOOT_INDEX
      }
      this.nodes.set(id, node)
      this.start(node)
    }
  }

  // --- helpers ---------------------------------------------------------------------------------------------

  private pick(n: number): number {
    return Math.floor(this.rng() * n)
  }

  private note(s: string): void {
    this.trace.push(`#${this.stepNo} ${s}`)
    if (this.trace.length > TRACE) this.trace.shift()
  }

  private alive(): SimNode[] {
    const out: SimNode[] = []
    for (const n of this.nodes.values()) if (n.rn !== undefined) out.push(n)
    return out
  }

  private randomAlive(): SimNode | undefined {
    const a = this.alive()
    return a.length === 0 ? undefined : a[this.pick(a.length)]
  }

  /** The live leader with the highest term, if any. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.alive()) {
      const r = n.rn!.raft
      if (r.state === "Leader" && (best === undefined || r.term > best.rn!.raft.term)) best = n
    }
    return best
  }

  private registerSnapshot(index: number, log: string[]): Uint8Array {
    const id = this.nextSnapshotId++
    this.snapshots.set(id, { index, log })
    return new Uint8Array([id & 255, (id >>> 8) & 255, (id >>> 16) & 255, (id >>> 24) & 255])
  }

  private payload(): Uint8Array {
    const id = this.nextPayload++
    return new Uint8Array([id & 255, (id >>> 8) & 255, (id >>> 16) & 255, 0xee])
  }

  private start(node: SimNode): void {
    node.rn = new RawNode({
      id: node.id,
      electionTick: this.electionTick,
      heartbeatTick: this.heartbeatTick,
      preVote: this.preVote,
      checkQuorum: this.checkQuorum,
      lazyCommit: this.lazyCommit,
      storage: node.storage,
      applied: node.appliedIndex,
      rng: mulberry32(Math.floor(this.rng() * 4294967296))
    })
    node.checkedCommit = Math.min(node.checkedCommit, node.rn.raft.raftLog.committed)
  }

  private destroy(id: number): void {
    const n = this.nodes.get(id)
    if (n === undefined || n.destroyed) return
    n.destroyed = true
    n.rn = undefined
    this.note(`destroy ${id}`)
  }

  // --- the Ready cycle -------------------------------------------------------------------------------------

  private processReady(node: SimNode): void {
    const rn = node.rn
    if (rn === undefined || !rn.hasReady()) return
    const rd = rn.ready()
    const storage = node.storage
    // 1. persist
    if (rd.snapshot !== undefined) {
      const err = storage.applySnapshot(rd.snapshot)
      if (isRaftFailure(err)) throw new SafetyViolation(`node ${node.id}: snapshot out of date\n${describeReady(rd)}`)
      const d = rd.snapshot.data
      const app = this.snapshots.get(d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24))
      const meta = rd.snapshot.metadata
      if (app === undefined || app.index !== meta.index)
        throw new SafetyViolation(`node ${node.id}: snapshot data does not match index ${meta.index}`)
      const lastKey = app.log[app.log.length - 1]
      if (lastKey !== undefined && this.checker.committedAt(meta.index) !== lastKey)
        throw new SafetyViolation(`node ${node.id}: snapshot at ${meta.index} has state ${lastKey}`)
      node.appliedIndex = meta.index
      node.appliedLog = app.log.slice()
      storage.conf = meta.confState.nodes.slice()
    }
    storage.append(rd.entries)
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState)
    for (const rs of rd.readStates) this.checkRead(node, rs.index, rs.requestCtx)
    // 2. send
    for (const m of rd.messages) {
      if (m.msgType === "MsgSnapshot") this.snapshotsSent++
      this.pool.push(m)
    }
    if (this.rng() < 0.005 * this.faults) {
      // Crash right after persisting and sending, before applying: a restart must re-apply from the durable
      // applied index, and must remember the vote it just sent.
      this.start(node)
      this.restarts++
      this.note(`bounce ${node.id} before apply`)
      return
    }
    // 3. apply
    let removeSelf = false
    for (const e of rd.committedEntries) {
      this.checker.observeApplied(node.id, node.appliedIndex, e)
      node.appliedIndex = e.index
      node.appliedLog.push(entryKey(e))
      if (e.entryType === "EntryConfChange") {
        const cc = decodeConfChange(e.data)
        storage.conf = rn.applyConfChange(cc).nodes.slice()
        if (cc.changeType === "RemoveNode") {
          if (cc.nodeId === node.id) removeSelf = true
          else this.destroy(cc.nodeId)
        }
      }
    }
    // 4. advance
    rn.advance(rd)
    if (removeSelf) this.destroy(node.id)
  }

  // --- checks ----------------------------------------------------------------------------------------------

  private check(node: SimNode): void {
    const rn = node.rn
    if (rn === undefined) return
    const r = rn.raft
    r.checkInvariants()
    if (r.state === "Leader") this.checker.observeLeader(r.term, node.id)
    const log = r.raftLog
    if (log.hasUnstableEntries()) {
      const prev = log.term(log.stabled)
      this.checker.observeEntries(node.id, log.unstableEntries(), typeof prev === "number" ? prev : undefined)
    }
    if (log.committed > node.checkedCommit) {
      const from = Math.max(node.checkedCommit + 1, log.firstIndex())
      const ents = log.slice(from, log.committed + 1)
      if (!isRaftFailure(ents)) for (const e of ents) this.checker.observeCommitted(node.id, e)
      node.checkedCommit = log.committed
    }
  }

  private checkRead(node: SimNode, index: number, ctx: Uint8Array): void {
    const id = ctx[0]! | (ctx[1]! << 8) | (ctx[2]! << 16) | (ctx[3]! << 24)
    const floor = this.readFloors.get(id)
    if (floor === undefined) throw new SafetyViolation(`node ${node.id}: read state for unknown read ${id}`)
    if (index < floor)
      throw new SafetyViolation(`node ${node.id}: read ${id} got index ${index}, but ${floor} was committed before it`)
    this.readsServed++
    this.note(`read ${id} on ${node.id} at ${index}`)
  }

  private checkAll(): void {
    for (const n of this.nodes.values()) this.check(n)
  }

  // --- actions ---------------------------------------------------------------------------------------------

  private maybeProcess(node: SimNode | undefined): void {
    if (node !== undefined && this.rng() < 0.7) this.processReady(node)
  }

  private partitioned(a: number, b: number): boolean {
    const g = this.groups
    return g !== undefined && (g.get(a) ?? 0) !== (g.get(b) ?? 0)
  }

  private deliver(chaos: boolean): SimNode | undefined {
    if (this.pool.length === 0) return undefined
    const idx = !chaos || this.rng() < 0.6 ? 0 : this.pick(this.pool.length)
    const m = this.pool[idx]!
    this.pool.splice(idx, 1)
    if (chaos) {
      if (this.rng() < this.dropRate || this.partitioned(m.from, m.to)) {
        this.note(`drop ${describeMessage(m)}`)
        return undefined
      }
      if (this.rng() < this.dupRate) this.pool.push(m)
    }
    const target = this.nodes.get(m.to)
    if (target?.rn === undefined) return undefined
    this.note(`deliver ${describeMessage(m)}`)
    target.rn.step(m)
    return target
  }

  private propose(): SimNode | undefined {
    const lead = this.leader()
    const node = lead !== undefined && this.rng() < 0.8 ? lead : this.randomAlive()
    if (node === undefined) return undefined
    const err = node.rn!.propose(this.payload())
    this.note(`propose on ${node.id}${err === undefined ? "" : ` (${err._tag})`}`)
    return node
  }

  /** A linearizable read on a random live node; its floor is the highest index committed anywhere right now. */
  private requestRead(): void {
    const alive = this.alive()
    if (alive.length === 0) return
    const node = alive[Math.floor(this.readRng() * alive.length)]!
    let floor = this.checker.maxCommitted
    for (const n of alive) floor = Math.max(floor, n.rn!.raft.raftLog.committed)
    const id = this.nextRead++
    this.readFloors.set(id, floor)
    const err = node.rn!.readIndex(new Uint8Array([id & 255, (id >>> 8) & 255, (id >>> 16) & 255, (id >>> 24) & 255]))
    this.note(`read ${id} on ${node.id} (floor ${floor})${err === undefined ? "" : ` (${err._tag})`}`)
  }

  private changeMembership(): SimNode | undefined {
    const lead = this.leader()
    if (lead === undefined) return undefined
    const members = lead.rn!.raft.nodes()
    let cc: ConfChange
    if (members.length < this.maxMembers && (members.length <= 3 || this.rng() < 0.5)) {
      cc = { changeType: "AddNode", nodeId: this.nextNodeId, context: EMPTY_DATA }
    } else if (members.length > 3) {
      cc = { changeType: "RemoveNode", nodeId: members[this.pick(members.length)]!, context: EMPTY_DATA }
    } else return undefined
    const err = lead.rn!.proposeConfChange(cc)
    this.note(`propose ${cc.changeType} ${cc.nodeId} on ${lead.id}${err === undefined ? "" : ` (${err._tag})`}`)
    if (err !== undefined) return lead
    this.confChanges++
    if (cc.changeType === "AddNode") {
      // The new peer starts empty and uninitialized (no members, log at index 0), like a raftstore peer created
      // for an incoming message; it can only catch up through a snapshot.
      const node: SimNode = {
        id: this.nextNodeId++,
        storage: new SimStorage(),
        rn: undefined,
        destroyed: false,
        appliedIndex: 0,
        appliedLog: [],
        checkedCommit: 0
      }
      this.nodes.set(node.id, node)
      this.start(node)
    }
    return lead
  }

  private transfer(): SimNode | undefined {
    const lead = this.leader()
    if (lead === undefined) return undefined
    const members = lead.rn!.raft.nodes()
    const to = members[this.pick(members.length)]!
    this.note(`transfer ${lead.id} -> ${to}`)
    lead.rn!.transferLeader(to)
    return lead
  }

  private compact(): SimNode | undefined {
    const node = this.randomAlive()
    if (node === undefined) return undefined
    const s = node.storage
    if (node.appliedIndex < s.firstIndex() + 1) return undefined
    const data = this.registerSnapshot(node.appliedIndex, node.appliedLog.slice())
    const snap = s.createSnapshot(node.appliedIndex, { nodes: s.conf.slice() }, data)
    if (isRaftFailure(snap)) return undefined
    s.compact(node.appliedIndex)
    this.note(`compact ${node.id} to ${node.appliedIndex}`)
    return node
  }

  private crash(): void {
    const alive = this.alive()
    const down = [...this.nodes.values()].filter((n) => n.rn === undefined && !n.destroyed).length
    if (down >= 2 || alive.length <= 2) return
    const node = alive[this.pick(alive.length)]!
    node.rn = undefined
    this.note(`crash ${node.id}`)
  }

  private restart(): void {
    const down = [...this.nodes.values()].filter((n) => n.rn === undefined && !n.destroyed)
    if (down.length === 0) return
    const node = down[this.pick(down.length)]!
    this.start(node)
    this.restarts++
    this.note(`restart ${node.id}`)
  }

  /** Crash and restart at once: a process restart that loses exactly what was not persisted. */
  private bounce(): SimNode | undefined {
    const node = this.randomAlive()
    if (node === undefined) return undefined
    this.start(node)
    this.restarts++
    this.note(`bounce ${node.id}`)
    return node
  }

  private partition(): void {
    if (this.groups !== undefined && this.rng() < 0.6) {
      this.groups = undefined
      this.note("heal")
      return
    }
    const g = new Map<number, number>()
    for (const id of this.nodes.keys()) g.set(id, this.pick(2))
    this.groups = g
    this.note(`partition ${[...g].map(([id, k]) => `${id}:${k}`).join(" ")}`)
  }

  private chaosStep(): void {
    if (this.readRng() < 0.1) this.requestRead()
    const x = this.rng()
    let touched: SimNode | undefined
    if (x < 0.35) {
      // A burst of deliveries: the network moves a few messages per scheduler step.
      for (let k = 1 + this.pick(4); k > 0; k--) this.maybeProcess(this.deliver(true))
    } else if (x < 0.45) {
      touched = this.randomAlive()
      touched?.rn?.tick()
    } else if (x < 0.6) {
      for (const n of this.alive()) n.rn!.tick()
    } else if (x < 0.68) {
      const n = this.randomAlive()
      if (n !== undefined) this.processReady(n)
    } else if (x < 0.72) {
      for (const n of this.alive()) this.processReady(n)
    } else if (x < 0.84) touched = this.propose()
    else if (x < 0.912 && this.rng() >= this.faults) touched = this.deliver(true)
    else if (x < 0.87) this.partition()
    else if (x < 0.882) this.crash()
    else if (x < 0.902) this.restart()
    else if (x < 0.912) touched = this.bounce()
    else if (x < 0.927) touched = this.changeMembership()
    else if (x < 0.942) touched = this.transfer()
    else touched = this.compact()
    if (this.pool.length > this.maxPool) this.maxPool = this.pool.length
    this.maybeProcess(touched)
  }

  // --- the schedule ----------------------------------------------------------------------------------------

  run(): ScheduleStats {
    try {
      for (this.stepNo = 1; this.stepNo <= this.params.steps; this.stepNo++) {
        this.chaosStep()
        this.checkAll()
      }
      const rounds = this.converge()
      this.checkFinal()
      return {
        seed: this.seed,
        nodes: this.nodes.size,
        committed: this.checker.maxCommitted,
        elections: this.checker.leaderElections,
        snapshotsSent: this.snapshotsSent,
        restarts: this.restarts,
        confChanges: this.confChanges,
        finalRounds: rounds,
        maxPool: this.maxPool,
        readsServed: this.readsServed
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e))
      const header = `raft safety schedule failed: seed ${this.seed}, step ${this.stepNo} — replay with RAFT_SEED=${this.seed}`
      const wrapped = new SafetyViolation(
        `${header}\n${err.name}: ${err.message}\nlast actions:\n${this.trace.join("\n")}`
      )
      wrapped.stack = `${wrapped.message}\n${err.stack ?? ""}`
      throw wrapped
    }
  }

  /** Heal everything and require the cluster to commit and apply a fresh proposal on every member. */
  private converge(): number {
    this.groups = undefined
    this.dropRate = 0
    this.dupRate = 0
    for (const n of this.nodes.values()) if (n.rn === undefined && !n.destroyed) this.start(n)
    let marker: string | undefined
    let markerRound = 0
    for (let round = 1; round <= 400; round++) {
      this.stepNo++
      for (const n of this.alive()) this.processReady(n)
      for (let k = 0; this.pool.length > 0 && k < 10_000; k++) {
        const t = this.deliver(false)
        if (t !== undefined) this.processReady(t)
      }
      for (const n of this.alive()) this.processReady(n)
      this.checkAll()
      const lead = this.leader()
      if (lead !== undefined) {
        if (marker !== undefined && this.markerAppliedEverywhere(lead, marker)) return round
        if (marker === undefined || round - markerRound > 30) {
          const data = this.payload()
          if (lead.rn!.propose(data) === undefined) {
            marker = `:N${Array.from(data, (b) => `${b.toString(16)}.`).join("")}`
            markerRound = round
            this.note(`final proposal on ${lead.id}`)
          }
        }
      }
      for (const n of this.alive()) n.rn!.tick()
    }
    const states = [...this.nodes.values()].map((n) => {
      const r = n.rn?.raft
      return r === undefined
        ? `${n.id}: ${n.destroyed ? "destroyed" : "down"}`
        : `${n.id}: ${r.state} term ${r.term} lead ${r.lead} commit ${r.raftLog.committed} last ${r.raftLog.lastIndex()} applied ${n.appliedIndex} members [${r.nodes().join(",")}]`
    })
    throw new SafetyViolation(
      `liveness: no final proposal applied on all members after 400 rounds\n${states.join("\n")}`
    )
  }

  private markerAppliedEverywhere(lead: SimNode, marker: string): boolean {
    let index = -1
    for (const n of this.nodes.values()) {
      for (let k = n.appliedLog.length - 1; k >= 0; k--) {
        const key = n.appliedLog[k]!
        if (key.endsWith(marker)) {
          index = Math.max(index, Number.parseInt(key, 10))
          break
        }
      }
    }
    if (index < 0) return false
    for (const id of lead.rn!.raft.nodes()) {
      const n = this.nodes.get(id)
      if (n === undefined || n.destroyed) continue
      if (n.appliedIndex < index) return false
    }
    return true
  }

  private checkFinal(): void {
    checkAppliedPrefixes(
      [...this.nodes.values()]
        .filter((n) => n.appliedLog.length > 0)
        .map((n) => ({ node: n.id, start: BOOT_INDEX + 1, keys: n.appliedLog }))
    )
    for (const n of this.nodes.values()) {
      if (n.rn === undefined) continue
      const hs: HardState = n.storage.initialState().hardState
      if (hs.commit > n.rn.raft.raftLog.committed)
        throw new SafetyViolation(`node ${n.id}: persisted commit ${hs.commit} above in-memory commit`)
    }
  }
}

/** Runs one schedule; throws a `SafetyViolation` naming the seed on any failure. */
export const runSchedule = (seed: number, steps: number): ScheduleStats => new Sim(seed, { steps }).run()
