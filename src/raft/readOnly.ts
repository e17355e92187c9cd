/**
 * The leader's book of ReadIndex requests waiting for a quorum (Raft thesis §6.4; etcd `read_only.go`, its
 * `ReadOnlySafe` option). Each request is keyed by the context its requester chose and remembers the commit
 * index the leader had when it took the request, who asked, and which members have since answered a heartbeat
 * carrying that context. Requests are kept in arrival order: a quorum of answers to a later request's heartbeat
 * also confirms every earlier one, since that heartbeat was sent after all of them were taken.
 *
 * Plain state, no messages: `readIndex.ts` drives it.
 */

/** A read the application may now serve: once it has applied `index`, its state machine is up to date for it. */
export interface ReadState {
  readonly index: number
  /** The context the read was requested with (`RawNode.readIndex`). */
  readonly requestCtx: Uint8Array
}

export interface PendingRead {
  /** The leader's commit index when it took the request. */
  readonly index: number
  /** The requester: this node, or a follower that forwarded the request. */
  readonly from: number
  readonly ctx: Uint8Array
  /** Members that answered a heartbeat carrying this context (the leader counts itself at once). */
  readonly acks: Map<number, boolean>
}

/** A context as a map key: the bytes one char each, so equal contexts give equal keys. */
const keyOf = (ctx: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!)
  return s
}

export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>()
  /** Keys of `pending`, oldest first. */
  private queue: Array<string> = []

  /** Number of requests waiting. */
  get size(): number {
    return this.queue.length
  }

  /** Takes a request; a context already waiting is kept as it was (its first index stands). */
  add(index: number, from: number, ctx: Uint8Array): PendingRead {
    const key = keyOf(ctx)
    const known = this.pending.get(key)
    if (known !== undefined) return known
    const read: PendingRead = { index, from, ctx, acks: new Map() }
    this.pending.set(key, read)
    this.queue.push(key)
    return read
  }

  /** Records that `from` answered a heartbeat carrying `ctx`; the acknowledgements so far, or undefined. */
  ack(from: number, ctx: Uint8Array): ReadonlyMap<number, boolean> | undefined {
    const read = this.pending.get(keyOf(ctx))
    if (read === undefined) return undefined
    read.acks.set(from, true)
    return read.acks
  }

  /** Removes and returns, oldest first, every request up to and including the one with `ctx`. */
  advance(ctx: Uint8Array): Array<PendingRead> {
    const key = keyOf(ctx)
    const at = this.queue.indexOf(key)
    if (at < 0) return []
    const done: Array<PendingRead> = []
    for (const k of this.queue.slice(0, at + 1)) {
      const read = this.pending.get(k)
      this.pending.delete(k)
      if (read !== undefined) done.push(read)
    }
    this.queue = this.queue.slice(at + 1)
    return done
  }

  /** The newest waiting request's context: periodic heartbeats carry it, so a lost one is made up for. */
  lastContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1]
    return key === undefined ? undefined : this.pending.get(key)?.ctx
  }
}
