/**
 * The synchronous in-process network of the Raft unit tests (TinyKV/etcd `raft_test.go` `network`).
 *
 * `send(...msgs)` steps each message into its target, then queues everything the target emitted (after filters),
 * until nothing is left. Filters: `drop(from, to, p)` drops a link with probability p (seeded, so deterministic),
 * `cut(a, b)` both directions, `isolate(id)` every link of a node, `ignore(type)` a message type, `recover()`
 * clears them all; `msgHook` sees every message and may veto it.
 */
import type { Message, MessageType } from "../../src/protocol/eraftpb.js"
import { deriveSeed, describeMessage, MemoryStorage, mulberry32, Raft, type Rng } from "../../src/raft/index.js"
import { idsBySize, type MutableConfig, newTestConfig, TEST_SEED } from "./helpers.js"

export interface StateMachine {
  step(m: Message): unknown
  readMessages(): Message[]
}

/** A peer that swallows every message (TinyKV `nopStepper` / `blackHole`). */
export const nopStepper: StateMachine = {
  step: () => undefined,
  readMessages: () => []
}

/** A slot given to `newNetwork`: an existing machine, or `undefined` for a fresh Raft with its own MemoryStorage. */
export type PeerSlot = StateMachine | undefined

export class Network {
  readonly peers = new Map<number, StateMachine>()
  readonly storage = new Map<number, MemoryStorage>()
  private dropm = new Map<string, number>()
  private ignorem = new Set<MessageType>()
  /** Called for each message sent; return false to drop it. */
  msgHook: ((m: Message) => boolean) | undefined = undefined
  private readonly rng: Rng = mulberry32(deriveSeed(TEST_SEED, 999))

  send(...msgs: Message[]): void {
    const queue = msgs.slice()
    for (let i = 0; i < queue.length; i++) {
      const m = queue[i]!
      const p = this.peers.get(m.to)
      if (p === undefined) continue
      p.step(m)
      for (const out of this.filter(p.readMessages())) queue.push(out)
    }
  }

  /** The Raft at `id` (fails if the slot holds something else). */
  raft(id: number): Raft {
    const p = this.peers.get(id)
    if (!(p instanceof Raft)) throw new Error(`peer ${id} is not a Raft`)
    return p
  }

  drop(from: number, to: number, perc: number): void {
    this.dropm.set(`${from}-${to}`, perc)
  }

  cut(one: number, other: number): void {
    this.drop(one, other, 2.0)
    this.drop(other, one, 2.0)
  }

  isolate(id: number): void {
    for (let nid = 1; nid <= this.peers.size; nid++) {
      if (nid !== id) {
        this.drop(id, nid, 1.0)
        this.drop(nid, id, 1.0)
      }
    }
  }

  ignore(t: MessageType): void {
    this.ignorem.add(t)
  }

  recover(): void {
    this.dropm = new Map()
    this.ignorem = new Set()
  }

  private filter(msgs: ReadonlyArray<Message>): Message[] {
    const out: Message[] = []
    for (const m of msgs) {
      if (this.ignorem.has(m.msgType)) continue
      // Hups never go over the network.
      if (m.msgType === "MsgHup") throw new Error(`unexpected MsgHup on the wire: ${describeMessage(m)}`)
      const perc = this.dropm.get(`${m.from}-${m.to}`) ?? 0
      if (this.rng() < perc) continue
      if (this.msgHook !== undefined && !this.msgHook(m)) continue
      out.push(m)
    }
    return out
  }
}

/** TinyKV `newNetworkWithConfig`: slot k gets id k+1; `undefined` slots become fresh Rafts over MemoryStorage. */
export const newNetworkWithConfig = (
  configure: ((c: MutableConfig) => void) | undefined,
  ...slots: PeerSlot[]
): Network => {
  const nw = new Network()
  const ids = idsBySize(slots.length)
  slots.forEach((p, j) => {
    const id = ids[j]!
    if (p === undefined) {
      const storage = new MemoryStorage()
      nw.storage.set(id, storage)
      const cfg = newTestConfig(id, ids, 10, 1, storage)
      configure?.(cfg)
      nw.peers.set(id, new Raft(cfg))
    } else {
      if (p instanceof Raft && p.id !== id) throw new Error(`raft ${p.id} placed in slot of id ${id}`)
      nw.peers.set(id, p)
    }
  })
  return nw
}

export const newNetwork = (...slots: PeerSlot[]): Network => newNetworkWithConfig(undefined, ...slots)
