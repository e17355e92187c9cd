/**
 * Construction parameters of a Raft node (TinyKV `raft.Config`).
 */
import type { Rng } from "./rng.js"
import type { Storage } from "./storage.js"

export interface Config {
  /** This node's id; never 0 (0 is `None`). */
  readonly id: number
  /**
   * Initial members. Only for bootstrapping tests and fresh groups: when empty or absent, the members come from
   * `storage.initialState().confState` (what a restarting node or the raftstore uses).
   */
  readonly peers?: ReadonlyArray<number>
  /**
   * Ticks a follower waits without hearing from a leader before campaigning. The actual timeout is re-drawn
   * uniformly from `[electionTick, 2 * electionTick)` on every state change (Raft paper §5.2).
   */
  readonly electionTick: number
  /** Ticks between a leader's heartbeats. Must be smaller than `electionTick`. */
  readonly heartbeatTick: number
  /** The durable log; see `storage.ts`. */
  readonly storage: Storage
  /**
   * Last index the application has applied (set on restart so already-applied entries are not handed out again).
   * Must be within `[firstIndex - 1, commit]`; 0 means "nothing since the snapshot".
   */
  readonly applied?: number
  /**
   * Source of the election-timeout jitter. Defaults to `mulberry32(id)`: deterministic but identical across
   * restarts of the same node, so real deployments should pass a generator seeded per process.
   */
  readonly rng?: Rng
  /**
   * Poll for votes before campaigning (Raft thesis §9.6): a node cut off from the group keeps its term, so when it
   * comes back it cannot depose a healthy leader. Off by default, as in TinyKV.
   */
  readonly preVote?: boolean
  /**
   * A leader that has not heard from a quorum within an election timeout steps down, and a node that hears from
   * its leader ignores vote requests for an election timeout (the leader lease; etcd `CheckQuorum`). Off by
   * default, as in TinyKV.
   */
  readonly checkQuorum?: boolean
  /**
   * With `checkQuorum`: a node that just started ignores vote requests for its first election timeout, as if
   * it had just heard from a leader. It may have answered a leader's heartbeat right before it stopped, and a
   * leader that serves reads from a lease (the raftstore's `readLease.ts`) counts on every member that
   * answered not to help elect another leader for an election timeout. Off by default (etcd's behaviour).
   */
  readonly quietAfterStart?: boolean
  /**
   * A leader whose commit index advances on an append answer does not tell every follower at once with an append
   * of its own: they learn it from the next append or heartbeat, which carry it anyway. Safe, since a follower
   * only ever commits what the leader committed (and holds); only the followers' applying waits, by at most a
   * heartbeat interval. It saves an append and its answer per follower per commit: with one client writing, about
   * half of the messages of a write. A commit past a conf change is still sent at once (a leader that removed
   * itself sends nothing after it). Off by default (etcd's behaviour); the raftstore turns it on
   * (`StoreConfig.lazyCommit`).
   */
  readonly lazyCommit?: boolean
}

/** Why `config` is unusable, or `undefined` when it is fine (TinyKV `Config.validate`). */
export const validateConfig = (c: Config): string | undefined => {
  if (!Number.isSafeInteger(c.id) || c.id <= 0) return "cannot use none as id"
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) return "heartbeat tick must be greater than 0"
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick)
    return "election tick must be greater than heartbeat tick"
  if (c.applied !== undefined && (!Number.isSafeInteger(c.applied) || c.applied < 0))
    return "applied must be a non-negative integer"
  return undefined
}
