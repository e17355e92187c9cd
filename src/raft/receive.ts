/**
 * What a follower does with a leader's MsgAppend, MsgHeartbeat and MsgSnapshot (Raft paper §5.3, §7). Every
 * message here is from the current term's leader: `Raft.step` checked the term, `stepFollower` the role.
 */
import type { Message } from "../protocol/eraftpb.js"
import { Progress } from "./progress.js"
import type { RaftNode } from "./node.js"

/**
 * AppendEntries receiver (§5.3): reject unless our log has an entry at `m.index` with term `m.logTerm`; else
 * keep matching entries, truncate at the first conflict, append the rest, and commit
 * `min(m.commit, index of last new entry)`. Exactly one reply.
 *
 * A rejection carries a hint (`index`, `logTerm`): the last index at or below the probe whose term is at most
 * `m.logTerm`, so the leader can skip a whole divergent term per round trip (etcd `findConflictByTerm`).
 */
export const handleAppendEntries = (r: RaftNode, m: Message): void => {
  const log = r.raftLog
  if (m.index < log.committed) {
    // Everything up to `committed` already matches the leader; a stale or duplicated message.
    r.send({ msgType: "MsgAppendResponse", to: m.from, index: log.committed })
    return
  }
  if (log.term(m.index) !== m.logTerm) {
    const hintIndex = log.findConflictByTerm(m.index, m.logTerm, log.committed)
    const hintTerm = log.mustTerm(hintIndex)
    r.send({ msgType: "MsgAppendResponse", to: m.from, reject: true, index: hintIndex, logTerm: hintTerm })
    return
  }
  if (m.entries.length > 0) log.appendFollower(m.entries)
  const lastNew = m.index + m.entries.length
  log.commitTo(Math.min(m.commit, lastNew))
  r.send({ msgType: "MsgAppendResponse", to: m.from, index: lastNew })
}

/** Heartbeat receiver: commit what the leader says we hold (its commit is already `min(match, committed)`). */
export const handleHeartbeat = (r: RaftNode, m: Message): void => {
  const log = r.raftLog
  log.commitTo(Math.min(m.commit, log.lastIndex()))
  // a heartbeat carrying a read's context is answered with it: the leader counts the answer for that read
  const context = m.context
  r.send(
    context === undefined
      ? { msgType: "MsgHeartbeatResponse", to: m.from }
      : { msgType: "MsgHeartbeatResponse", to: m.from, context }
  )
}

/**
 * InstallSnapshot receiver (§7). A snapshot not newer than our commit index is answered with our commit index
 * and otherwise ignored; one whose last entry we already hold just advances the commit index; any other
 * replaces the log and the member list.
 */
export const handleSnapshot = (r: RaftNode, m: Message): void => {
  const snap = m.snapshot
  if (snap === undefined) return
  const log = r.raftLog
  const meta = snap.metadata
  if (meta.index <= log.committed) {
    r.send({ msgType: "MsgAppendResponse", to: m.from, index: log.committed })
    return
  }
  if (log.matchTerm(meta.index, meta.term)) {
    log.commitTo(meta.index)
    r.send({ msgType: "MsgAppendResponse", to: m.from, index: meta.index })
    return
  }
  log.restore(snap)
  const next = log.lastIndex() + 1
  r.prs = new Map(meta.confState.nodes.map((id) => [id, new Progress(0, next)]))
  r.send({ msgType: "MsgAppendResponse", to: m.from, index: meta.index })
}
