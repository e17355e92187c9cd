/** The shared local-cluster module: restart controls, and a closed scope leaves no process and no data. */
import { processesWith } from "../support/processes.js"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Cause, Effect, Exit, Option, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { ChildNotReady, startLocalCluster } from "../../src/process/index.js"
import { assertBuilt } from "../support/cli.js"

const run = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) =>
  Effect.runPromise(effect.pipe(Effect.provide(NodeContext.layer)))

describe("startLocalCluster", () => {
  it("serves, restarts a killed store, and its scope's close stops everything and removes the data", async () => {
    assertBuilt()
    const scope = await Effect.runPromise(Scope.make())
    const cluster = await run(startLocalCluster({ stores: 1, keepOutput: true }).pipe(Scope.extend(scope)))
    try {
      expect(existsSync(cluster.dataDir)).toBe(true)
      expect(processesWith(cluster.dataDir).length).toBe(2)
      await run(cluster.waitUntilWritable("60 seconds"))
      await run(cluster.killStore(1))
      expect(processesWith(cluster.stores[0]!.dataDir)).toEqual([])
      await run(cluster.startStore(1))
      expect(await run(cluster.output("store-1"))).toMatch(/listening/)
      await run(cluster.waitUntilWritable("60 seconds"))
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    expect(processesWith(cluster.dataDir)).toEqual([])
    expect(existsSync(cluster.dataDir)).toBe(false)
  }, 120_000)

  it("a child that cannot listen fails the start with its reason, and nothing is left running", async () => {
    assertBuilt()
    const taken = createServer()
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port))
    )
    try {
      const exit = await run(Effect.exit(Effect.scoped(startLocalCluster({ stores: 1, schedulerPort: port }))))
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toBeInstanceOf(ChildNotReady)
      expect((error as ChildNotReady).message).toMatch(/^scheduler exited \(code 1\) before it was ready$/)
      expect((error as ChildNotReady).output).toMatch(/EADDRINUSE/)
      expect(processesWith(`127.0.0.1:${port}`)).toEqual([])
    } finally {
      taken.close()
    }
  }, 60_000)
})
