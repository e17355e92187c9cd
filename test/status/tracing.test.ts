/**
 * Tracing along a write's path, in one process with a real scheduler, a replicated store and the cluster
 * client over TCP, all exporting to an in-memory OpenTelemetry exporter: the client's call, the store's
 * handler, `raft.propose` and `raft.apply` are one trace, each span the child of the one before. And
 * without an OTLP endpoint configured, the processes' tracing layer switches RPC tracing off.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Effect, Layer } from "effect"
import { assert, describe, it } from "@effect/vitest"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { layerClusterStore } from "../../src/layers/clusterStore.js"
import { layerServer } from "../../src/layers/schedulerServer.js"
import { freePort } from "../../src/process/ports.js"
import { defaultConfig } from "../../src/raftstore/config.js"
import { rpcTracingEnabled } from "../../src/rpc/tracing.js"
import { layerTracing } from "../../src/status/tracing.js"
import { eventually } from "../../src/testing/eventually.js"

describe("tracing", () => {
  it.live(
    "a client write is one trace: client call → store handler → raft.propose → raft.apply",
    () => {
      const exporter = new InMemorySpanExporter()
      const dataDir = mkdtempSync(join(tmpdir(), "tinykv-tracing-"))
      return Effect.gen(function* () {
        const schedulerPort = yield* freePort
        const storePort = yield* freePort
        const scheduler = `127.0.0.1:${schedulerPort}`
        yield* Layer.build(
          layerServer({ host: "127.0.0.1", port: schedulerPort, dataDir: undefined, scheduleInterval: false })
        )
        yield* Layer.build(
          layerClusterStore({
            host: "127.0.0.1",
            port: storePort,
            dataDir,
            scheduler,
            storeId: 1,
            initialStores: [1],
            config: defaultConfig
          })
        )
        const write = Effect.flatMap(TinyKvClient, (kv) => kv.rawPut("traced", "yes")).pipe(
          Effect.provide(TinyKvClient.layer({ scheduler, timeout: "2 seconds", deadline: "5 seconds" }))
        )
        yield* eventually(write, { what: "the store to take a write", timeout: "30 seconds", interval: "100 millis" })
        exporter.reset()
        yield* write

        const spans = exporter.getFinishedSpans()
        const named = (name: string) => {
          const found = spans.filter((s) => s.name === name)
          assert.strictEqual(found.length, 1, `one ${name} span among ${spans.map((s) => s.name).join(", ")}`)
          return found[0]!
        }
        const client = named("RpcClient.RawPut")
        const handler = named("RpcServer.RawPut")
        const propose = named("raft.propose")
        const apply = named("raft.apply")
        const traceId = client.spanContext().traceId
        for (const s of [handler, propose, apply]) assert.strictEqual(s.spanContext().traceId, traceId, s.name)
        assert.strictEqual(handler.parentSpanContext?.spanId, client.spanContext().spanId)
        assert.strictEqual(propose.parentSpanContext?.spanId, handler.spanContext().spanId)
        assert.strictEqual(apply.parentSpanContext?.spanId, handler.spanContext().spanId)
        // in order: the proposal commits before its apply and reply
        const nanos = (t: readonly [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])
        assert.isTrue(nanos(propose.endTime) <= nanos(apply.startTime))
        assert.isTrue(nanos(apply.endTime) <= nanos(handler.endTime))
      }).pipe(
        Effect.scoped,
        Effect.provide(
          NodeSdk.layer(() => ({
            resource: { serviceName: "tinykv-test" },
            spanProcessor: new SimpleSpanProcessor(exporter)
          }))
        ),
        Effect.ensuring(Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      )
    },
    60_000
  )

  it.effect("without an OTLP endpoint, a process's tracing layer turns RPC tracing off", () =>
    Effect.gen(function* () {
      const off = yield* rpcTracingEnabled.pipe(Effect.provide(layerTracing("tinykv-test")))
      assert.isFalse(off)
    }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
  )
})
