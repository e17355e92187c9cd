import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { startLocalCluster } from "../src/process/index.js"
const mode = process.argv[2]
NodeRuntime.runMain(
  Effect.gen(function* () {
    const c = yield* startLocalCluster({ stores: 3 })
    yield* c.waitUntilWritable("30 seconds")
    yield* Console.log("writable")
    if (mode === "a") yield* Effect.uninterruptible(c.kill("store-2"))
    else yield* c.kill("store-2")
    yield* Console.log("killed")
    yield* c.startStore(2).pipe(Effect.timeout("20 seconds"))
    yield* Console.log("restarted")
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
)
