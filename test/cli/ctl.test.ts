/** `tinykv ctl` end to end: the built command against an in-process scheduler on a free port. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Exit, Scope } from "effect"
import { freePort } from "../../bench/standalone.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { heartbeat, peer, region, stats, store } from "../scheduler/fixtures.js"
import { startScheduler } from "../scheduler/support.js"
import { assertBuilt, tinykv } from "../support/cli.js"

const header = { clusterId: 0 }
const T = 60_000

describe("tinykv ctl", { timeout: T }, () => {
  const scope = Effect.runSync(Scope.make())
  let address = ""
  let empty = ""
  /** Store 1 reports (it is Up for 20 s after each report). */
  let heartbeat1: () => Promise<void> = async () => {}

  beforeAll(async () => {
    assertBuilt()
    const run = <A, E>(e: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(e, scope))
    empty = (await run(startScheduler())).address
    const { address: a, scheduler: s } = await run(startScheduler())
    address = a
    heartbeat1 = () =>
      Effect.runPromise(
        Effect.asVoid(s.storeHeartbeat({ header, stats: stats(1, { capacity: 1 << 30, available: 1 << 29 }) }))
      )
    // two regions split at "m": region 1 [ "", m ) led by store 1, region 2 [ m, "" ) led by store 2
    const left = region(1, "", "m", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3, version: 2 })
    const right = region(2, "m", "", { peers: [peer(21, 1), peer(22, 2), peer(23, 3)], confVer: 3, version: 2 })
    await Effect.runPromise(
      Effect.gen(function* () {
        yield* s.bootstrap({ header, store: store(1), region: left })
        for (const id of [2, 3]) yield* s.putStore({ header, store: store(id) })
        yield* s.regionHeartbeat({ header, ...heartbeat(left, peer(11, 1), [], 3 << 20) })
        yield* s.regionHeartbeat({ header, ...heartbeat(right, peer(22, 2)) })
      })
    )
  }, T)
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

  const ctl = (...args: ReadonlyArray<string>) => tinykv(["ctl", ...args, "--scheduler", address], { timeoutMs: T })
  const json = async (...args: ReadonlyArray<string>) => {
    const r = await ctl(...args, "--json")
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout)
  }

  it("stores --json: one entry per store with the documented fields", async () => {
    await heartbeat1()
    const stores = await json("stores")
    expect(stores).toHaveLength(3)
    expect(Object.keys(stores[0]).sort()).toEqual(
      ["address", "available", "capacity", "id", "lastHeartbeat", "leaderCount", "regionCount", "state"].sort()
    )
    expect(stores[0]).toMatchObject({
      id: 1,
      address: store(1).address,
      state: "Up",
      regionCount: 2,
      leaderCount: 1,
      capacity: 1 << 30,
      available: 1 << 29
    })
    expect(Number.isNaN(Date.parse(stores[0].lastHeartbeat))).toBe(false)
    expect(stores[2]).toMatchObject({ id: 3, regionCount: 2, leaderCount: 0, capacity: 0, lastHeartbeat: null })
  })

  it("stores (table) and regions (table) are readable text", async () => {
    const s = await ctl("stores")
    expect(s.code).toBe(0)
    expect(s.stdout).toMatch(/^ID\s+ADDRESS\s+STATE/)
    expect(s.stdout.trim().split("\n")).toHaveLength(4)
    const r = await ctl("regions")
    expect(r.stdout).toContain("11@1,12@2,13@3")
  })

  it("regions --json and region KEY --json: hex keys, epoch, peers, leader, size", async () => {
    const regions = await json("regions")
    expect(regions).toEqual([
      {
        id: 1,
        startKey: "",
        endKey: "6d",
        epoch: { confVer: 3, version: 2 },
        peers: [
          { id: 11, storeId: 1 },
          { id: 12, storeId: 2 },
          { id: 13, storeId: 3 }
        ],
        leader: { id: 11, storeId: 1 },
        approximateSize: 3
      },
      expect.objectContaining({ id: 2, startKey: "6d", endKey: "", leader: { id: 22, storeId: 2 }, approximateSize: 1 })
    ])
    expect(await json("region", "zebra")).toMatchObject({ id: 2 })
    expect(await json("region", "00", "--hex")).toMatchObject({ id: 1 })
  })

  it("operator add / show, split: recorded and listed; refusals exit 1 with error: on stderr", async () => {
    const added = await ctl("operator", "add", "transfer-leader", "1", "2")
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toContain("transfer leader to store 2")
    const bad = await ctl("operator", "add", "add-peer", "1", "1")
    expect(bad).toMatchObject({ code: 1, stdout: "" })
    expect(bad.stderr).toMatch(/^error: .*already has peer/)
    expect((await ctl("split", "2", "--key", "q")).code).toBe(0)
    const ops = await json("operator", "show")
    expect(ops.map((o: { regionId: number; kind: string; status: string }) => [o.regionId, o.kind, o.status])).toEqual([
      [1, "admin", "RUNNING"],
      [2, "split", "RUNNING"]
    ])
    expect(ops[1].steps).toEqual([`split at ${Buffer.from(utf8("q")).toString("hex")}`])
    const outside = await ctl("split", "2", "--key", "a")
    expect(outside.code).toBe(1)
    expect(outside.stderr).toContain("not strictly inside")
  })

  it("store delete marks a store Offline (drained by the coordinator); store up takes it back", async () => {
    const del = await ctl("store", "delete", "3")
    expect(del.code, del.stderr).toBe(0)
    expect((await json("stores"))[2]).toMatchObject({ id: 3, state: "Offline" })
    expect((await ctl("store", "up", "3")).code).toBe(0)
    // Up, or Disconnected when this machine is slow: store 3 never heartbeats in this test
    expect(["Up", "Disconnected"]).toContain((await json("stores"))[2].state)
  })

  it("a cluster not bootstrapped, a scheduler that is not there, a bad address: exit 1, nothing on stdout", async () => {
    const notYet = await tinykv(["ctl", "regions", "--json", "--scheduler", empty], { timeoutMs: T })
    expect(notYet).toMatchObject({ code: 1, stdout: "" })
    expect(notYet.stderr).toContain("error: the cluster is not bootstrapped yet")
    const down = await tinykv(["ctl", "stores", "--json", "--scheduler", `127.0.0.1:${await freePort()}`], {
      timeoutMs: T
    })
    expect(down).toMatchObject({ code: 1, stdout: "" })
    expect(down.stderr).toContain("error: cannot reach the scheduler")
    const addr = await tinykv(["ctl", "stores", "--scheduler", "nonsense"], { timeoutMs: T })
    expect(addr.code).toBe(1)
    expect(addr.stderr).toContain("HOST:PORT")
  })
})
