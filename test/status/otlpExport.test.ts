/**
 * A real `tinykv server` with `OTEL_EXPORTER_OTLP_ENDPOINT` set exports its spans over OTLP/HTTP: a local
 * HTTP server stands in for the collector and records what arrives at `/v1/traces`.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { assert, describe, it } from "@effect/vitest"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt, freePort, tinykv } from "../support/cli.js"

const root = join(import.meta.dirname, "../..")

describe("OTLP trace export", () => {
  it("a store started with OTEL_EXPORTER_OTLP_ENDPOINT sends the spans of a write to the collector", async () => {
    assertBuilt()
    const received: Array<{ path: string; bytes: number }> = []
    const collector: Server = createServer((req, res) => {
      let bytes = 0
      req.on("data", (d: Buffer) => (bytes += d.length))
      req.on("end", () => {
        received.push({ path: req.url ?? "", bytes })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
    const data = mkdtempSync(join(tmpdir(), "tinykv-otlp-"))
    const port = await freePort()
    const store = spawn(
      process.execPath,
      [join(root, "bin/tinykv.mjs"), "server", "--standalone", "--addr", `127.0.0.1:${port}`, "--data", data],
      {
        cwd: root,
        stdio: "ignore",
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: "100" }
      }
    )
    try {
      await Effect.runPromise(
        eventually(
          Effect.promise(() => tinykv(["put", "traced", "yes", "--store", `127.0.0.1:${port}`])).pipe(
            Effect.map((r) => r.code === 0)
          ),
          { what: "the store to take a write", timeout: "30 seconds", interval: "200 millis" }
        )
      )
      await Effect.runPromise(
        eventually(
          Effect.sync(() => received.some((r) => r.path === "/v1/traces" && r.bytes > 0)),
          { what: "spans at the collector", timeout: "20 seconds", interval: "100 millis" }
        )
      )
      const traces = received.filter((r) => r.path === "/v1/traces")
      assert.isAbove(traces.length, 0)
      assert.isAbove(traces[0]!.bytes, 0)
    } finally {
      store.kill("SIGTERM")
      await new Promise((resolve) => store.once("exit", resolve))
      collector.close()
      rmSync(data, { recursive: true, force: true })
    }
  }, 60_000)
})
