/**
 * The double-applied put the process nemesis found (docs/RELIABILITY.md), replayed in-process through
 * the real cluster client (`cluster.clientLayer()`): a leader proposes a put and replicates it, but
 * hears nothing back, so it never commits or answers it. The client's attempt times out. Before the fix
 * the client sent the put again (to the same leader, after a NotLeader hint from a follower), and both
 * copies sat in the followers' logs: once a follower took over, it applied both, the second after any
 * write made in between. Now the put ends as `Indeterminate` and is proposed once: the raft log carries
 * one entry with its value, which the new leader applies.
 */
import { assert, it } from "@effect/vitest"
import { Context, type Duration, Effect, Layer } from "effect"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { Filters, TestCluster } from "../../src/testing/index.js"
import { eventually } from "../../src/testing/eventually.js"

/** True when `haystack` holds `needle` as a run of bytes. */
const holds = (haystack: Uint8Array, needle: Uint8Array): boolean =>
  Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle))

it.live("a put whose reply is lost is not proposed again: Indeterminate, one log entry, applied once", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 3 })
    yield* cluster.start
    const client = (timeout: Duration.DurationInput) =>
      Layer.build(cluster.clientLayer({ timeout })).pipe(Effect.map(Context.get(TinyKvClient)))
    const kv = yield* client("500 millis")
    const key = utf8("k")
    yield* kv.rawPut(key, "v0")
    const leader = (yield* cluster.getRegion(key)).leader
    assert.isDefined(leader)
    const leaderStore = leader!.storeId

    // every log entry (term/index) that carries the put's value, as the leader replicates it
    const value = utf8("lost-reply-value")
    const entries = new Set<string>()
    yield* cluster.observe((d) => {
      for (const e of d.message.message.entries) if (holds(e.data, value)) entries.add(`${e.term}/${e.index}`)
    })

    // the followers append what the leader sends, but nothing reaches the leader: it cannot commit
    yield* cluster.addFilter(Filters.hook((d) => d.to !== leaderStore || d.from === leaderStore))
    const e = yield* Effect.flip(kv.rawPut(key, value))
    assert.strictEqual(e._tag, "Indeterminate")
    if (e._tag === "Indeterminate") assert.strictEqual(e.method, "RawPut")
    assert.strictEqual(entries.size, 1, "proposed once")

    // the followers elect a leader of their own, which has the entry and commits it
    yield* cluster.clearFilters
    yield* cluster.isolate(leaderStore)
    const reader = yield* client("2 seconds")
    yield* eventually(
      Effect.map(reader.rawGet(key), (v) => v !== undefined && fromUtf8(v) === fromUtf8(value)),
      { what: "the put applied by the new leader", timeout: "30 seconds" }
    )
    assert.strictEqual(entries.size, 1, "never proposed again")
  }).pipe(Effect.scoped)
)
