/**
 * A quiet region leader reports to the scheduler every `regionHeartbeatIdleTicks`, not every
 * `regionHeartbeatTicks`; a change in what it would report (size, epoch, pending peers) is reported at
 * the next `regionHeartbeatTicks`. Drives `onTick` the way a round does (`round.ts` marks each report sent).
 */
import { assert, describe, it } from "@effect/vitest"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Region } from "../../src/protocol/metapb.js"
import { testConfig, validateConfig } from "../../src/raftstore/config.js"
import { heartbeatDue, heartbeatFingerprint, heartbeatSent } from "../../src/raftstore/heartbeatThrottle.js"
import type { Peer } from "../../src/raftstore/peer.js"
import { onTick } from "../../src/raftstore/peerHandlers.js"
import type { RoundContext } from "../../src/raftstore/roundContext.js"

const config = {
  ...testConfig,
  regionHeartbeatTicks: 2,
  regionHeartbeatIdleTicks: 20,
  // keep the other periodic duties out of the way
  raftLogGcTicks: 1_000_000,
  splitCheckTicks: 1_000_000
}

const region = (version: number): Region => ({
  id: 1 as RegionId,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { version, confVer: 1 },
  peers: [{ id: 1 as PeerId, storeId: 1 as StoreId }]
})

/** The parts of a leader `onTick` and the fingerprint read. */
const fakeLeader = () => {
  let ticks = 0
  const peer = {
    id: 1,
    region: region(1),
    approximateSize: 1024 as number | undefined,
    isLeader: true,
    reads: { size: 0 },
    rawNode: { tick: () => void ticks++ },
    pendingPeers: () => [],
    ticksSinceGc: 0,
    ticksSinceSplitCheck: 0,
    ticksSinceHeartbeat: 0,
    ticksSinceHeartbeatSent: 0,
    lastHeartbeat: undefined as string | undefined
  }
  return { peer, asPeer: peer as unknown as Peer, raftTicks: () => ticks }
}

/** Ticks `n` times; returns at which ticks (1-based) a report went out. */
const tick = (asPeer: Peer, n: number, from = 0): Array<number> => {
  const sent: Array<number> = []
  for (let i = 1; i <= n; i++) {
    const ctx = { heartbeats: [] as Array<Peer>, splitChecks: [] as Array<Peer> }
    onTick(ctx as unknown as RoundContext, config, asPeer)
    for (const p of ctx.heartbeats) {
      heartbeatSent(p)
      sent.push(from + i)
    }
  }
  return sent
}

describe("region heartbeat throttle", () => {
  it("a quiet leader reports once, then every idle interval; every tick still reaches raft", () => {
    const { asPeer, raftTicks } = fakeLeader()
    const sent = tick(asPeer, 100)
    assert.deepStrictEqual(sent, [2, 22, 42, 62, 82])
    assert.strictEqual(raftTicks(), 100)
  })

  it("a changed size or epoch is reported at the next heartbeat tick", () => {
    const { peer, asPeer } = fakeLeader()
    assert.deepStrictEqual(tick(asPeer, 10), [2])
    peer.approximateSize = 4096
    assert.deepStrictEqual(tick(asPeer, 10, 10), [12])
    peer.region = region(2)
    assert.isTrue(heartbeatDue(asPeer, config))
    assert.deepStrictEqual(tick(asPeer, 10, 20), [22])
    assert.strictEqual(peer.lastHeartbeat, heartbeatFingerprint(asPeer))
  })

  it("with the idle interval equal to the heartbeat interval (the test config), every interval reports", () => {
    const { asPeer } = fakeLeader()
    const sent: Array<number> = []
    for (let i = 1; i <= 10; i++) {
      const ctx = { heartbeats: [] as Array<Peer>, splitChecks: [] as Array<Peer> }
      onTick(ctx as unknown as RoundContext, { ...config, regionHeartbeatIdleTicks: 2 }, asPeer)
      for (const p of ctx.heartbeats) {
        heartbeatSent(p)
        sent.push(i)
      }
    }
    assert.deepStrictEqual(sent, [2, 4, 6, 8, 10])
  })
})

describe("region heartbeat idle interval config", () => {
  it("is refused when shorter than the heartbeat interval", () => {
    assert.isDefined(validateConfig({ ...testConfig, regionHeartbeatTicks: 10, regionHeartbeatIdleTicks: 5 }))
    assert.isUndefined(validateConfig({ ...testConfig, regionHeartbeatTicks: 10, regionHeartbeatIdleTicks: 10 }))
  })
})
