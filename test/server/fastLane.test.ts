/**
 * The server's fast lane (`src/server/fastLane.ts`): a one-way `Raft` batch is delivered in order and
 * never answered, a refused one is dropped alone, and the live transport marks its batches one-way.
 */
import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer } from "effect"
import { Packr, Unpackr } from "msgpackr"
import { SocketServer } from "@effect/platform/SocketServer"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { layerTransportRpc } from "../../src/layers/transportRpc.js"
import { layerTsoLocal } from "../../src/layers/tsoLocal.js"
import { layerHandlersWith, standaloneRaftHandlers } from "../../src/server/handlers.js"
import { layerRpcServer, layerSocketServer } from "../../src/server/serve.js"
import { NotLeader } from "../../src/protocol/errorpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import { KvStorage, type Modify } from "../../src/services/KvStorage.js"
import { Storage } from "../../src/services/Storage.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { ONE_WAY_HEADER } from "../../src/protocol/oneWay.js"
import { FrameReader, frame } from "../../src/rpc/framedMsgPack.js"
import { Transport } from "../../src/services/Transport.js"
import { eventually } from "../../src/testing/eventually.js"
import { openRaw } from "../support/rawSocket.js"
import { indexes, messages, s1, s2, takeN } from "../transport/fixtures.js"
import { startRaftStore } from "../transport/liveStore.js"

const request = (id: string, tag: string, payload: unknown, oneWay = false) => ({
  _tag: "Request",
  id,
  tag,
  payload,
  headers: oneWay ? [[ONE_WAY_HEADER, "1"]] : []
})

const portOf = (address: string) => Number(address.split(":")[1])

/** Reads answers until the one for `requestId`; returns every answer read. */
const answersUntil = (raw: Awaited<ReturnType<typeof openRaw>>, requestId: string) =>
  Effect.promise(async () => {
    const seen: Array<{ _tag?: string; requestId?: string; exit?: { _tag: string } }> = []
    for (;;) {
      const m = (await raw.next()) as { _tag?: string; requestId?: string } | string
      if (typeof m === "string") throw new Error(`no answer to ${requestId}: ${m}`)
      seen.push(m)
      if (m.requestId === requestId) return seen
    }
  })

/**
 * A standalone store's RPC server (tracing off, so the fast lane serves `RawGet`/`RawPut`) over `storage` on a free
 * loopback port, and a raw connection to it; both live as long as the scope.
 */
const openStandalone = (storage: Layer.Layer<KvStorage | Storage>) =>
  Effect.gen(function* () {
    const server = layerRpcServer(layerHandlersWith(standaloneRaftHandlers)).pipe(
      Layer.provide(layerTsoLocal.pipe(Layer.provideMerge(storage)))
    )
    const ctx = yield* Layer.build(Layer.provideMerge(server, layerSocketServer({ host: "127.0.0.1", port: 0 }))).pipe(
      Effect.withTracerEnabled(false)
    )
    const address = (yield* Effect.provide(SocketServer, ctx)).address
    if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
    return yield* Effect.promise(() => openRaw(address.port))
  })

describe("fast lane", () => {
  it.scopedLive("a one-way Raft batch is delivered in order and never answered", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const raw = yield* Effect.promise(() => openRaw(portOf(store.address)))
      raw.send(request("1", "Raft", { messages: messages(s1, s2, 3, 1) }, true))
      raw.send(request("2", "Raft", { messages: messages(s1, s2, 3, 4) }, true))
      // the same call without the header is answered, as before
      raw.send(request("3", "Raft", { messages: messages(s1, s2, 1, 7) }))
      raw.send(request("4", "RawGet", { key: utf8("k"), cf: "default" }))
      assert.deepStrictEqual(indexes(yield* takeN(store.inbox, 7)), [1, 2, 3, 4, 5, 6, 7])
      const seen = yield* answersUntil(raw, "4")
      // requests on one connection are taken in order, so an answer to 1 or 2 would come before 4's
      assert.deepStrictEqual(seen.map((m) => m.requestId).sort(), ["3", "4"])
      assert.strictEqual(seen.find((m) => m.requestId === "3")?.exit?._tag, "Success")
      raw.socket.destroy()
    })
  )

  it.scopedLive("a one-way batch its Schema refuses is dropped alone; the connection stays in step", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const raw = yield* Effect.promise(() => openRaw(portOf(store.address)))
      raw.send(request("1", "Raft", { messages: [{ regionId: "not an id" }] }, true))
      raw.send(request("2", "Raft", { messages: messages(s1, s2, 2, 1) }, true))
      raw.send(request("3", "RawGet", { key: utf8("k"), cf: "default" }))
      const seen = yield* answersUntil(raw, "3")
      assert.deepStrictEqual(
        seen.map((m) => m.requestId),
        ["3"]
      )
      assert.deepStrictEqual(indexes(yield* takeN(store.inbox, 2)), [1, 2])
      assert.deepStrictEqual(store.raftCalls, [2])
      raw.socket.destroy()
    })
  )

  it.scopedLive("the live transport sends its Raft batches one-way", () =>
    Effect.gen(function* () {
      // a bare peer that answers every request without the header (the proving call) and records the rest
      const requests: Array<{ tag: string; headers: Array<[string, string]>; oneWay: boolean }> = []
      const peer = Net.createServer((socket) => {
        const reader = new FrameReader(16 * 1024 * 1024)
        const unpackr = new Unpackr({ useRecords: true })
        const packr = new Packr({ useRecords: true })
        socket.on("data", (chunk: Buffer) => {
          for (const payload of reader.push(chunk)) {
            const m = unpackr.unpack(payload) as {
              _tag: string
              id: string
              tag: string
              headers: Array<[string, string]>
            }
            if (m._tag !== "Request") continue
            const oneWay = m.headers.some(([k]) => k === ONE_WAY_HEADER)
            requests.push({ tag: m.tag, headers: m.headers, oneWay })
            if (!oneWay) {
              socket.write(frame(packr.pack({ _tag: "Exit", requestId: m.id, exit: { _tag: "Success" } })))
            }
          }
        })
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void peer.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => peer.close())
      )
      const address = `127.0.0.1:${(peer.address() as Net.AddressInfo).port}`
      const transport = yield* Effect.map(
        Layer.build(layerTransportRpc({ resolve: () => Effect.succeed(address) })),
        Context.get(Transport)
      )
      yield* transport.send(messages(s1, s2, 5, 1))
      yield* eventually(() => requests.some((r) => r.oneWay), { timeout: "10 seconds", what: "a one-way batch" })
      // the link writes its batches straight to its socket: every request on it is a one-way Raft batch
      assert.isTrue(requests.every((r) => r.tag === "Raft" && r.oneWay))
      assert.isAtLeast(requests.length, 1)
    })
  )

  it.scopedLive("RawPut and RawGet answers on the fast lane (tracing off) are what RpcServer sends", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore.pipe(Effect.withTracerEnabled(false))
      const raw = yield* Effect.promise(() => openRaw(portOf(store.address)))
      raw.send(request("1", "RawPut", { key: utf8("k"), value: utf8("v"), cf: "default" }))
      raw.send(request("2", "RawGet", { key: utf8("k"), cf: "default" }))
      raw.send(request("3", "RawGet", { key: utf8("absent"), cf: "default" }))
      raw.send(request("4", "RawPut", { key: new Uint8Array(), value: utf8("v"), cf: "default" }))
      const seen = (yield* answersUntil(raw, "4")) as Array<{
        requestId?: string
        exit?: { _tag: string; value?: { value?: Uint8Array; notFound: boolean }; cause?: unknown }
      }>
      const byId = new Map(seen.map((m) => [m.requestId, m.exit]))
      assert.strictEqual(byId.get("1")?._tag, "Success")
      assert.deepStrictEqual(byId.get("2"), { _tag: "Success", value: { value: utf8("v"), notFound: false } })
      assert.deepStrictEqual(byId.get("3"), { _tag: "Success", value: { notFound: true } })
      // a typed failure is encoded by the Exit Schema, as RpcServer encodes it
      assert.deepStrictEqual(byId.get("4"), {
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "InvalidArgument", message: "key must not be empty" } }
      })
      raw.socket.destroy()
    })
  )

  it.scopedLive("a fast read that throws leaves the request to its handler: answered, the connection kept", () =>
    Effect.gen(function* () {
      // an engine whose synchronous reads throw what is not a StorageError (a bug, or a broken engine)
      const throwing = Layer.effect(
        Storage,
        Effect.map(Storage, (storage) => ({
          ...storage,
          readNow: () => {
            throw new Error("broken readNow")
          }
        }))
      ).pipe(Layer.provide(layerMemory))
      const raw = yield* openStandalone(layerStandalone.pipe(Layer.provideMerge(throwing)))
      raw.send(request("1", "RawPut", { key: utf8("k"), value: utf8("v"), cf: "default" }))
      raw.send(request("2", "RawGet", { key: utf8("k"), cf: "default" }))
      raw.send(request("3", "RawGet", { key: utf8("k"), cf: "default" }))
      const seen = (yield* answersUntil(raw, "3")) as Array<{ requestId?: string; exit?: unknown }>
      const byId = new Map(seen.map((m) => [m.requestId, m.exit]))
      assert.deepStrictEqual(byId.get("2"), { _tag: "Success", value: { value: utf8("v"), notFound: false } })
      assert.deepStrictEqual(byId.get("3"), byId.get("2"))
      raw.socket.destroy()
    })
  )

  it.scopedLive("a fast write's answers, applied or refused, are what its handler's path sends", () =>
    Effect.gen(function* () {
      // a storage that refuses writes of "refused" with NotLeader — through `write` (the handler's path) and
      // through `writeNow` (the fast lane's, answered from its callback after a turn, as a round would)
      const notLeader = new NotLeader({ regionId: 7 as RegionId, leader: { id: 2 as PeerId, storeId: 2 as StoreId } })
      let startedNow = 0
      const refuses = (batch: ReadonlyArray<Modify>) => batch.some((m) => new TextDecoder().decode(m.key) === "refused")
      const storageWith = (fast: boolean) =>
        Layer.effect(
          KvStorage,
          Effect.map(KvStorage, (kv): KvStorage["Type"] => {
            const write: KvStorage["Type"]["write"] = (context, space, batch) =>
              refuses(batch) ? Effect.fail(notLeader) : kv.write(context, space, batch)
            return fast
              ? {
                  ...kv,
                  write,
                  writeNow: (context, space, batch, done) => {
                    startedNow++
                    Effect.runCallback(Effect.either(write(context, space, batch)), {
                      onExit: (exit) =>
                        done(Exit.isSuccess(exit) && exit.value._tag === "Left" ? exit.value.left : undefined)
                    })
                    return true
                  }
                }
              : { ...kv, write }
          })
        ).pipe(Layer.provide(layerStandalone), Layer.provide(layerMemory))
      const answersOf = (fast: boolean) =>
        Effect.gen(function* () {
          const raw = yield* openStandalone(Layer.merge(storageWith(fast), layerMemory))
          raw.send(request("1", "RawPut", { key: utf8("k"), value: utf8("v"), cf: "default" }))
          raw.send(request("2", "RawPut", { key: utf8("refused"), value: utf8("v"), cf: "default" }))
          raw.send(request("3", "RawGet", { key: utf8("k"), cf: "default" }))
          const seen = (yield* answersUntil(raw, "3")) as Array<{ requestId?: string; exit?: unknown }>
          raw.socket.destroy()
          return new Map(seen.map((m) => [m.requestId, m.exit]))
        })
      const fast = yield* answersOf(true)
      assert.strictEqual(startedNow, 2, "both puts went the fast way")
      const handler = yield* answersOf(false)
      assert.strictEqual((fast.get("1") as { _tag?: string })._tag, "Success")
      assert.deepStrictEqual(fast.get("1"), handler.get("1"))
      assert.deepStrictEqual(fast.get("2"), handler.get("2"), "the typed refusal, encoded as RpcServer encodes it")
      assert.strictEqual((fast.get("2") as { cause?: { error?: { _tag?: string } } }).cause?.error?._tag, "NotLeader")
      assert.deepStrictEqual(fast.get("3"), { _tag: "Success", value: { value: utf8("v"), notFound: false } })
    })
  )
})
