/**
 * `tinykv/raft`: the Raft consensus core (TinyKV `raft/` package, projects 2A/2C/3A).
 *
 * Plain synchronous TypeScript: no Effect, no IO, no timers, no global randomness. See docs/RAFT.md for the API
 * tour, the Ready contract (`ready.ts`) and the randomized safety suite.
 */
export { type Config, validateConfig } from "./config.js"
export { decodeConfChange, encodeConfChange } from "./confChange.js"
export {
  describeData,
  describeEntries,
  describeEntry,
  describeHardState,
  describeLog,
  describeMessage,
  describeReady,
  describeSnapshot
} from "./describe.js"
export {
  Compacted,
  compacted,
  invariant,
  isRaftFailure,
  ProposalDropped,
  proposalDropped,
  RaftFailure,
  RaftInvariantError,
  SnapOutOfDate,
  SnapshotTemporarilyUnavailable,
  snapOutOfDate,
  snapshotTemporarilyUnavailable,
  type StepError,
  StepLocalMsg,
  StepPeerNotFound,
  type StorageError,
  stepLocalMsg,
  stepPeerNotFound,
  Unavailable,
  unavailable
} from "./errors.js"
export { Progress } from "./progress.js"
export { committedIndex, quorum, type VoteResult, voteResult } from "./quorum.js"
export { Raft, type SoftState } from "./raft.js"
export { MAX_APPEND_BYTES } from "./replicate.js"
export { RaftLog } from "./raftLog.js"
export type { ReadState } from "./readOnly.js"
export { type ProgressView, RawNode, type Status } from "./rawNode.js"
export type { Ready } from "./ready.js"
export { deriveSeed, mulberry32, type Rng, randomInt } from "./rng.js"
export { type InitialState, MemoryStorage, type Storage } from "./storage.js"
export {
  EMPTY_DATA,
  emptyHardState,
  emptySnapshot,
  isEmptyHardState,
  isEmptySnap,
  isHardStateEqual,
  isLocalMsg,
  isResponseMsg,
  type MessageInit,
  newEntry,
  newMessage,
  None,
  type StateType
} from "./util.js"
