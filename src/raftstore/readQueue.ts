/**
 * A leader's reads waiting on ReadIndex (`raft/readIndex.ts`; TiKV's `ReadIndexQueue`): a `Snap`-only command
 * is not proposed. The reads a round takes are asked for together with one `RawNode.readIndex` (one heartbeat
 * broadcast for the whole batch), and a batch is answered once the Raft core has confirmed it (a `ReadState`
 * with the batch's context) AND the peer has applied the confirmed index. What answers them, and when, is
 * `readIndexServe.ts`; this module only keeps the book.
 *
 * A batch's context is the term it was asked in and a number counting up per peer, so a context is never
 * reused by this peer object; a restarted peer starts its count again, but in a later term.
 */
import type { Deferred } from "effect"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RawNode, ReadState } from "../raft/index.js"

export interface QueuedRead {
  readonly request: RaftCmdRequest
  readonly reply: Deferred.Deferred<RaftCmdResponse>
  /** Set for a read served under the leader's lease: when the lease ends (`readLease.ts`). */
  readonly leaseUntil?: bigint
}

/** A batch a quorum confirmed: what renews the leader's lease (`readLease.ts`). */
export interface Confirmed {
  readonly term: number
  readonly generation: number
  readonly askedAt: bigint
}

interface ReadBatch {
  readonly id: number
  /** The term the batch was asked for in: answered only while the peer is still leader of it. */
  readonly term: number
  readonly reads: ReadonlyArray<QueuedRead>
  /** The confirmed read index, once the core's ReadState arrived. */
  index: number | undefined
  /** Ticks since the batch was asked for. */
  ticks: number
  /** The leader's monotonic clock when it asked, and its lease generation then (`readLease.ts`). */
  readonly askedAt: bigint
  readonly generation: number
}

const CTX_BYTES = 16

const contextOf = (term: number, id: number): Uint8Array => {
  const ctx = new Uint8Array(CTX_BYTES)
  const v = new DataView(ctx.buffer)
  v.setFloat64(0, term)
  v.setFloat64(8, id)
  return ctx
}

/** The batch a context names, or undefined for a context that is not ours (`[term, id]`). */
const parseContext = (ctx: Uint8Array): readonly [number, number] | undefined => {
  if (ctx.length !== CTX_BYTES) return undefined
  const v = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength)
  return [v.getFloat64(0), v.getFloat64(8)]
}

export class ReadQueue {
  /** Taken this round, not asked for yet. */
  private fresh: Array<QueuedRead> = []
  /** Asked for, oldest first. */
  private batches: Array<ReadBatch> = []
  private nextId = 1

  /** Reads held, asked for or not. */
  get size(): number {
    let n = this.fresh.length
    for (const b of this.batches) n += b.reads.length
    return n
  }

  /** Whether reads were taken since the last `askFor`. */
  get hasFresh(): boolean {
    return this.fresh.length > 0
  }

  /** Batches asked for and not answered yet (tests and status). */
  get batchCount(): number {
    return this.batches.length
  }

  add(read: QueuedRead): void {
    this.fresh.push(read)
  }

  /**
   * Asks `node` (a leader of `term`) for one read index covering every read taken since the last call. The
   * core queues it (a new leader's first commit), or broadcasts a heartbeat carrying the context.
   */
  askFor(node: RawNode, term: number, askedAt = 0n, generation = 0): void {
    if (this.fresh.length === 0) return
    const id = this.nextId++
    this.batches.push({ id, term, reads: this.fresh, index: undefined, ticks: 0, askedAt, generation })
    this.fresh = []
    // refused only off the leader, and then the batch is answered NotLeader by the term and role check
    node.readIndex(contextOf(term, id))
  }

  /**
   * A read served under the leader's lease (`readLease.ts`): confirmed already, at `index` (the leader's
   * commit index), answered once that is applied, like a confirmed batch.
   */
  addLeased(read: QueuedRead, term: number, index: number): void {
    this.batches.push({ id: 0, term, reads: [read], index, ticks: 0, askedAt: 0n, generation: -1 })
  }

  /** Records the read indexes the core confirmed; returns the batches they confirmed. */
  confirm(readStates: ReadonlyArray<ReadState>): Array<Confirmed> {
    const confirmed: Array<Confirmed> = []
    for (const rs of readStates) {
      const parsed = parseContext(rs.requestCtx)
      if (parsed === undefined) continue
      const [term, id] = parsed
      const batch = this.batches.find((b) => b.id === id && b.term === term)
      if (batch !== undefined && batch.index === undefined) {
        batch.index = rs.index
        confirmed.push(batch)
      }
    }
    return confirmed
  }

  /** Whether a batch was asked for in another term than `term`. */
  hasOtherTerm(term: number): boolean {
    return this.batches.some((b) => b.term !== term)
  }

  /** Removes and returns the reads of every confirmed batch whose index `applied` has reached, oldest first. */
  takeServable(applied: number): Array<QueuedRead> {
    const out: Array<QueuedRead> = []
    const kept: Array<ReadBatch> = []
    for (const b of this.batches) {
      if (b.index !== undefined && b.index <= applied) out.push(...b.reads)
      else kept.push(b)
    }
    if (kept.length !== this.batches.length) this.batches = kept
    return out
  }

  /** Removes and returns every read held. */
  takeAll(): Array<QueuedRead> {
    const out: Array<QueuedRead> = [...this.fresh]
    for (const b of this.batches) out.push(...b.reads)
    this.fresh = []
    this.batches = []
    return out
  }

  /**
   * One tick: removes and returns the reads of batches asked for `maxTicks` ticks ago or more and still not
   * served (a leader cut off in a minority never gets its quorum; its reader has given up by now).
   */
  tick(maxTicks: number): Array<QueuedRead> {
    const out: Array<QueuedRead> = []
    const kept: Array<ReadBatch> = []
    for (const b of this.batches) {
      if (++b.ticks >= maxTicks) out.push(...b.reads)
      else kept.push(b)
    }
    if (kept.length !== this.batches.length) this.batches = kept
    return out
  }
}
