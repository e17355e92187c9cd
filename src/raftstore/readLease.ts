/**
 * A leader's read lease (Raft thesis §6.4.1; TiKV's `Lease`): for a while after a quorum confirmed its
 * leadership, a leader answers a read from what it has applied, without asking the quorum again.
 *
 * Why it is sound. A ReadIndex batch asked at time T (the leader's monotonic clock, taken before the
 * heartbeat carrying it went out) and confirmed by a quorum means every member of that quorum heard from the
 * leader after T. With CheckQuorum such a member refuses to vote for anyone else for an election timeout of
 * its own ticks after it heard (`ignoresVoteRequest`; a member that restarts meanwhile refuses for its first
 * election timeout, `quietAfterStart`). Ticks arrive at least a tick apart in the worker's one mailbox, behind
 * the messages that came before them (a worker held up finds one tick waiting, not a burst: `tickQueued` in
 * `round.ts`), so that is at least `electionTicks - 1` ticks of real time. Every
 * quorum of a new leader's election meets this one, so no other leader can exist — and commit anything this
 * one has not — before T + (electionTicks - 1) ticks. The lease is shorter by one more tick for clock drift:
 * `(electionTicks - 2) * baseTickMs`.
 *
 * What ends it early, because the argument above no longer holds:
 * - another term, or the peer no longer leader (checked on every use);
 * - a leadership transfer started in the term (the target campaigns at once and is voted for anyway, even after
 *   the transfer was abandoned if its MsgTimeoutNow is still on its way): no lease for the rest of the term;
 * - a membership change or a split applied (`invalidate`): a batch asked before it renews nothing after it.
 *
 * A read under the lease is served at the leader's commit index (so after its own term's first entry has
 * applied, like ReadIndex), and the lease is checked again once the read's engine snapshot is open
 * (`raftWorker.ts`): a process paused between the first check and the snapshot must not hand out a state
 * that a newer leader may have overtaken meanwhile.
 */

export class ReadLease {
  /** Monotonic nanoseconds the lease runs until (exclusive); 0n: no lease. */
  private until = 0n
  /** The term the lease was won in. */
  private term = -1
  /** Bumped by `invalidate`: confirmations of batches asked under an older generation renew nothing. */
  private gen = 0

  constructor(
    /** How long a confirmation at T holds, in nanoseconds; 0n turns leases off. */
    readonly durationNanos: bigint
  ) {}

  get generation(): number {
    return this.gen
  }

  /** A ReadIndex batch asked at `askedAt` (in `term`, under `generation`) was confirmed by a quorum. */
  renew(term: number, generation: number, askedAt: bigint): void {
    if (this.durationNanos <= 0n || generation !== this.gen) return
    if (term !== this.term) {
      this.term = term
      this.until = 0n
    }
    const until = askedAt + this.durationNanos
    if (until > this.until) this.until = until
  }

  /** Ends the lease; batches asked before now renew nothing. */
  invalidate(): void {
    this.gen++
    this.until = 0n
  }

  /** When the lease ends, if it holds in `term` at `now`. */
  validUntil(term: number, now: bigint): bigint | undefined {
    return term === this.term && now < this.until ? this.until : undefined
  }
}

/** The lease length for a store's Raft timing: `(electionTicks - 2)` ticks, or none below 3 election ticks. */
export const leaseNanos = (electionTicks: number, baseTickMs: number): bigint =>
  electionTicks < 3 ? 0n : BigInt(Math.floor((electionTicks - 2) * baseTickMs * 1_000_000))
