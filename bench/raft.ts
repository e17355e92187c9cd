/**
 * Raft core micro-benchmarks (`npm run bench -- raft`, or directly `npx tsx bench/raft.ts`).
 *
 * - Committed entries per second through a 3-node in-memory cluster (RawNode + MemoryStorage, full Ready cycle:
 *   persist, send, apply, advance; messages delivered in order, no loss) for 128-byte proposals, one proposal
 *   at a time (each waits for the cluster to go quiet) and in batches of 64 proposals per round.
 * - Nanoseconds per `step` of a one-entry MsgAppend on a follower (including building its response).
 *
 * Options: `--entries=<n>` proposals per throughput run (default 20000), `--steps=<n>` follower steps
 * (default 200000), `--runs=<n>` repetitions of each measurement, best one reported (default 3; the best run is the
 * least disturbed by other load on the machine), `--quick` (a tenth of entries and steps, one run).
 */
import { pathToFileURL } from "node:url"
import type { Entry, Message } from "../src/protocol/eraftpb.js"
import { MemoryStorage, mulberry32, newMessage, RawNode } from "../src/raft/index.js"

interface Node {
  readonly rn: RawNode
  readonly storage: MemoryStorage
}

const PAYLOAD = 128

const makeCluster = (): Map<number, Node> => {
  const nodes = new Map<number, Node>()
  for (const id of [1, 2, 3]) {
    const storage = new MemoryStorage()
    const rn = new RawNode({ id, peers: [1, 2, 3], electionTick: 10, heartbeatTick: 1, storage, rng: mulberry32(id) })
    nodes.set(id, { rn, storage })
  }
  return nodes
}

/** Runs Ready cycles and delivers messages until the cluster is quiet; returns entries applied by node 1. */
const pump = (nodes: Map<number, Node>): number => {
  let applied = 0
  const queue: Message[] = []
  for (;;) {
    let progressed = false
    for (const [id, n] of nodes) {
      if (!n.rn.hasReady()) continue
      progressed = true
      const rd = n.rn.ready()
      if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot)
      n.storage.append(rd.entries)
      if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState)
      for (const m of rd.messages) queue.push(m)
      if (id === 1) applied += rd.committedEntries.length
      n.rn.advance(rd)
    }
    if (queue.length > 0) {
      progressed = true
      for (const m of queue.splice(0)) nodes.get(m.to)?.rn.step(m)
    }
    if (!progressed) return applied
  }
}

const payload = (i: number): Uint8Array => {
  const d = new Uint8Array(PAYLOAD)
  d[0] = i & 255
  d[1] = (i >>> 8) & 255
  d[2] = (i >>> 16) & 255
  return d
}

/** Entries/s committed and applied on the leader, proposing `batch` entries per round. */
const throughput = (entries: number, batch: number): number => {
  const nodes = makeCluster()
  const leader = nodes.get(1)!.rn
  leader.campaign()
  pump(nodes)
  if (leader.raft.state !== "Leader") throw new Error("benchmark cluster did not elect node 1")
  const datas = Array.from({ length: entries }, (_, i) => payload(i))
  let applied = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < entries; i += batch) {
    for (let k = i; k < Math.min(entries, i + batch); k++) {
      if (leader.propose(datas[k]!) !== undefined) throw new Error("proposal dropped")
    }
    applied += pump(nodes)
  }
  const ns = Number(process.hrtime.bigint() - t0)
  if (applied !== entries) throw new Error(`applied ${applied} of ${entries} entries`)
  return Math.round(entries / (ns / 1e9))
}

/** Mean nanoseconds per `RawNode.step` of a one-entry MsgAppend on a follower. */
const followerAppendStep = (steps: number): number => {
  const storage = new MemoryStorage()
  const rn = new RawNode({ id: 2, peers: [1, 2, 3], electionTick: 10, heartbeatTick: 1, storage, rng: mulberry32(2) })
  const msgs: Message[] = []
  for (let i = 1; i <= steps; i++) {
    const e: Entry = { entryType: "EntryNormal", term: 1, index: i, data: payload(i) }
    msgs.push(
      newMessage({
        msgType: "MsgAppend",
        from: 1,
        to: 2,
        term: 1,
        index: i - 1,
        logTerm: i === 1 ? 0 : 1,
        entries: [e],
        commit: i - 1
      })
    )
  }
  const raft = rn.raft
  const t0 = process.hrtime.bigint()
  for (const m of msgs) {
    rn.step(m)
    raft.msgs.length = 0
  }
  const ns = Number(process.hrtime.bigint() - t0)
  if (raft.raftLog.lastIndex() !== steps) throw new Error("follower did not append every entry")
  return Math.round(ns / steps)
}

const intArg = (args: ReadonlyArray<string>, name: string, fallback: number): number => {
  const a = args.find((x) => x.startsWith(`--${name}=`))
  return a === undefined ? fallback : Number.parseInt(a.slice(name.length + 3), 10)
}

export async function run(args: string[]): Promise<unknown> {
  const quick = args.includes("--quick")
  const scale = quick ? 10 : 1
  const entries = Math.floor(intArg(args, "entries", 20_000) / scale)
  const steps = Math.floor(intArg(args, "steps", 200_000) / scale)
  const runs = Math.max(1, intArg(args, "runs", quick ? 1 : 3))
  // Warm up the JIT on every path first.
  throughput(Math.min(2_000, entries), 1)
  throughput(Math.min(2_000, entries), 64)
  followerAppendStep(Math.min(20_000, steps))
  const best = (f: () => number, better: (a: number, b: number) => number): number => {
    let r = f()
    for (let i = 1; i < runs; i++) r = better(r, f())
    return r
  }
  return {
    benchmark: "raft",
    node: process.version,
    payloadBytes: PAYLOAD,
    cluster: "3 nodes, RawNode + MemoryStorage, in-process, in-order delivery",
    committedEntriesPerSecOneAtATime: best(() => throughput(entries, 1), Math.max),
    committedEntriesPerSecBatch64: best(() => throughput(entries, 64), Math.max),
    followerMsgAppendStepNs: best(() => followerAppendStep(steps), Math.min),
    params: { entries, steps, runs }
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e: unknown) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}
