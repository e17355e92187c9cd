/**
 * Majority arithmetic (etcd `quorum/majority.go`, without joint configurations: TinyKV changes one node at a time).
 */

/** Votes needed among `voters` voters: a strict majority. */
export const quorum = (voters: number): number => Math.floor(voters / 2) + 1

/**
 * The highest index replicated on a majority, given every voter's match index (Raft paper §5.3/§5.4.2: the leader
 * may commit it once the entry there is from its current term). 0 for an empty group.
 */
export const committedIndex = (matches: ReadonlyArray<number>): number => {
  const n = matches.length
  if (n === 0) return 0
  const sorted = matches.slice().sort((a, b) => b - a)
  return sorted[quorum(n) - 1]!
}

export type VoteResult = "Won" | "Lost" | "Pending"

/**
 * Outcome of an election among `voters` given the `votes` received so far (granted = true). A candidate wins with
 * a majority of grants and loses with a majority of rejections; otherwise it waits.
 */
export const voteResult = (voters: Iterable<number>, votes: ReadonlyMap<number, boolean>): VoteResult => {
  let n = 0
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    n++
    const v = votes.get(id)
    if (v === true) granted++
    else if (v === false) rejected++
  }
  const q = quorum(n)
  if (granted >= q) return "Won"
  if (rejected >= q) return "Lost"
  return "Pending"
}
