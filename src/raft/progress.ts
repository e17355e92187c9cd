/**
 * A leader's view of one follower's log (TinyKV `Progress`, Raft paper Figure 2 `matchIndex[]` / `nextIndex[]`).
 */
export class Progress {
  /** Highest index known to be replicated on the follower. Only grows during a term. */
  match: number
  /** Index of the next entry to send. Invariant: `next >= match + 1`. */
  next: number
  /**
   * Whether the follower answered since the leader's last quorum check (`Config.checkQuorum`). New progress
   * starts active: a member just added, or every member of a new leader, gets a full election timeout.
   */
  recentActive = true
  constructor(match: number, next: number) {
    this.match = match
    this.next = next
  }
}
