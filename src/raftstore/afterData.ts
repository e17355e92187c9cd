/**
 * The raft log ops that must follow a round's applied data (`WriteOp.afterData`, `services/Storage.ts`), and the
 * mending of a log a crash left behind them. Only an engine whose raft log is a log of its own
 * (`layers/storageRaftLogged.ts`) ever writes the two apart; on one that writes a batch in one transaction the
 * marks are moot and the mending finds nothing to do.
 */
import type { RegionId } from "../protocol/ids.js"
import type { RaftApplyState, RaftLocalState } from "../protocol/raftServer.js"
import type { EngineReader, WriteOp } from "../services/Storage.js"
import { decodeEntry, RaftLocalStateCodec } from "./codec.js"
import { raftLogKey, raftStateKey } from "./keys.js"

/** Marks the `raft` ops from `from` on `afterData` (`services/Storage.ts`). */
export const markAfterData = (ops: Array<WriteOp>, from: number): void => {
  for (let i = from; i < ops.length; i++) {
    const op = ops[i]!
    if (op.space === "raft") ops[i] = { ...op, afterData: true }
  }
}

/** The ops that delete a region's raft state and every entry of its log up to `lastIndex`, after its data. */
export const clearRaftOps = (regionId: RegionId, lastIndex: number): Array<WriteOp> => [
  {
    _tag: "DeleteRange",
    space: "raft",
    start: raftLogKey(regionId, 0),
    end: raftLogKey(regionId, lastIndex + 1),
    afterData: true
  },
  { _tag: "Delete", space: "raft", key: raftStateKey(regionId), afterData: true }
]

/**
 * The raft state a restart must start from when the region's apply state says it installed a snapshot (or was
 * created by a split) the log does not show: the log is behind the snapshot's index, or has another term there.
 * It happens only with a raft log of its own (`layers/storageRaftLogged.ts`), which makes a snapshot's data
 * durable before the log that starts at it: a crash between the two leaves the data and the old log. The log is
 * then what the snapshot's write would have left — empty up to the snapshot's entry — with the term and vote kept.
 * The ops to make it so are added to `ops`.
 */
export const reconcileWithSnapshot = (
  engine: EngineReader,
  regionId: RegionId,
  raftState: RaftLocalState,
  applyState: RaftApplyState,
  ops: Array<WriteOp>
): RaftLocalState => {
  const t = applyState.truncatedState
  let termAtT: number | undefined
  if (t.index === raftState.lastIndex) termAtT = raftState.lastTerm
  else if (t.index < raftState.lastIndex) {
    const raw = engine.get("raft", raftLogKey(regionId, t.index))
    // absent: compacted to exactly there, which only follows the applied index (nothing to mend)
    termAtT = raw === undefined ? undefined : decodeEntry(raw).term
  }
  const behind = raftState.lastIndex < t.index
  if (!behind && (termAtT === undefined || termAtT === t.term)) return raftState
  const hs = raftState.hardState
  const mended: RaftLocalState = {
    hardState: { ...hs, term: Math.max(hs.term, t.term), commit: Math.max(hs.commit, t.index) },
    lastIndex: t.index,
    lastTerm: t.term
  }
  ops.push(
    {
      _tag: "DeleteRange",
      space: "raft",
      start: raftLogKey(regionId, 0),
      end: raftLogKey(regionId, Math.max(raftState.lastIndex, t.index) + 1)
    },
    { _tag: "Put", space: "raft", key: raftStateKey(regionId), value: RaftLocalStateCodec.encode(mended) }
  )
  return mended
}
