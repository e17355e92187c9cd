/**
 * Shared helpers of the Raft core tests: the TinyKV test utilities (`newTestConfig`, `newTestRaft`, `nextEnts`,
 * `commitNoopEntry`, `acceptAndReply`, `entsWithConfig`, `votedWithConfig`, `idsBySize`, `ltoa`) in TypeScript.
 */
import type { Entry, HardState, Message, MessageType } from "../../src/protocol/eraftpb.js"
import {
  type Config,
  deriveSeed,
  describeLog,
  describeMessage,
  MemoryStorage,
  type MessageInit,
  mulberry32,
  newEntry,
  newMessage,
  Raft,
  RaftLog,
  type Storage
} from "../../src/raft/index.js"

/** Seed of the election-timeout jitter in unit tests; each node draws from its own stream. */
export const TEST_SEED = 20240901

export type MutableConfig = { -readonly [K in keyof Config]: Config[K] }

export const newTestConfig = (
  id: number,
  peers: ReadonlyArray<number>,
  election: number,
  heartbeat: number,
  storage: Storage
): MutableConfig => ({
  id,
  peers,
  electionTick: election,
  heartbeatTick: heartbeat,
  storage,
  rng: mulberry32(deriveSeed(TEST_SEED, id))
})

export const newTestRaft = (
  id: number,
  peers: ReadonlyArray<number>,
  election: number,
  heartbeat: number,
  storage: Storage
): Raft => new Raft(newTestConfig(id, peers, election, heartbeat, storage))

export const idsBySize = (size: number): number[] => Array.from({ length: size }, (_, i) => i + 1)

export const msg = (init: MessageInit): Message => newMessage(init)

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (d: Uint8Array): string => new TextDecoder().decode(d)

/** An entry `term/index` with optional string payload. */
export const ent = (term: number, index: number, data?: string): Entry =>
  data === undefined ? newEntry({ term, index }) : newEntry({ term, index, data: enc(data) })

/** A one-entry proposal message (TinyKV `{MsgType: MsgPropose, Entries: [{Data}]}`). */
export const propose = (from: number, to: number, data?: string): Message =>
  msg({ msgType: "MsgPropose", from, to, entries: [data === undefined ? newEntry({}) : newEntry({ data: enc(data) })] })

export const hup = (id: number): Message => msg({ msgType: "MsgHup", from: id, to: id })
export const beat = (id: number): Message => msg({ msgType: "MsgBeat", from: id, to: id })

/** TinyKV `newMemoryStorageWithEnts`: a storage whose log holds `ents` (a leading index-0 dummy is skipped). */
export const memoryStorageWithEnts = (ents: ReadonlyArray<Entry>): MemoryStorage => {
  const s = new MemoryStorage()
  s.append(ents)
  return s
}

export const newLogWithEnts = (ents: ReadonlyArray<Entry>, committed = 0): RaftLog => {
  const l = new RaftLog(memoryStorageWithEnts(ents))
  l.committed = committed
  return l
}

/** TinyKV `ltoa`. */
export const ltoa = (l: RaftLog): string => describeLog(l)

/**
 * TinyKV `nextEnts`: persist the unstable entries into `s`, then return the committed-but-unapplied entries and
 * mark them applied.
 */
export const nextEnts = (r: Raft, s: MemoryStorage): Entry[] => {
  s.append(r.raftLog.unstableEntries())
  r.raftLog.stabled = r.raftLog.lastIndex()
  const ents = r.raftLog.nextEnts()
  r.raftLog.applied = r.raftLog.committed
  return ents
}

/** TinyKV `acceptAndReply`: a follower's acceptance of MsgAppend `m`. */
export const acceptAndReply = (m: Message): Message => {
  if (m.msgType !== "MsgAppend") throw new Error(`acceptAndReply: want MsgAppend, got ${describeMessage(m)}`)
  return msg({ msgType: "MsgAppendResponse", from: m.to, to: m.from, term: m.term, index: m.index + m.entries.length })
}

/**
 * TinyKV `commitNoopEntry`: replicate the new leader's noop to every follower and commit it. Every message the
 * leader has queued must be a MsgAppend carrying exactly that one empty entry (so `becomeLeader` must not emit
 * heartbeats).
 */
export const commitNoopEntry = (r: Raft, s: MemoryStorage): void => {
  if (r.state !== "Leader") throw new Error("commitNoopEntry: it should only be used when it is the leader")
  for (const id of r.prs.keys()) if (id !== r.id) r.sendAppend(id)
  for (const m of r.readMessages()) {
    if (m.msgType !== "MsgAppend" || m.entries.length !== 1 || m.entries[0]!.data.length !== 0)
      throw new Error(`not a message to append noop entry: ${describeMessage(m)}`)
    r.step(acceptAndReply(m))
  }
  r.readMessages() // ignore the commit broadcast
  s.append(r.raftLog.unstableEntries())
  r.raftLog.applied = r.raftLog.committed
  r.raftLog.stabled = r.raftLog.lastIndex()
}

/** TinyKV `entsWithConfig`: a node whose log holds one entry per given term, at term = the last one. */
export const entsWithConfig = (configure: ((c: MutableConfig) => void) | undefined, id: number, ...terms: number[]) => {
  const storage = new MemoryStorage()
  terms.forEach((term, i) => {
    storage.append([ent(term, i + 1)])
  })
  const cfg = newTestConfig(id, [], 5, 1, storage)
  configure?.(cfg)
  const r = new Raft(cfg)
  r.term = terms[terms.length - 1]!
  return r
}

/** TinyKV `votedWithConfig`: a node with an empty log that voted for `vote` in `term`. */
export const votedWithConfig = (
  configure: ((c: MutableConfig) => void) | undefined,
  id: number,
  vote: number,
  term: number
): Raft => {
  const storage = new MemoryStorage()
  const hs: HardState = { term, vote, commit: 0 }
  storage.setHardState(hs)
  const cfg = newTestConfig(id, [], 5, 1, storage)
  configure?.(cfg)
  const r = new Raft(cfg)
  r.term = term
  return r
}

/** Messages in a canonical order (TinyKV sorts by their printed form). */
export const sortMessages = (msgs: ReadonlyArray<Message>): Message[] =>
  msgs.slice().sort((a, b) => (describeMessage(a) < describeMessage(b) ? -1 : 1))

export const describeAll = (msgs: ReadonlyArray<Message>): string[] => msgs.map(describeMessage)

export const ofType = (msgs: ReadonlyArray<Message>, t: MessageType): Message[] => msgs.filter((m) => m.msgType === t)
