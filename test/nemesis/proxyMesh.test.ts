/**
 * The proxy mesh heals what it cut, every time: the nemesis once left links cut for good after its second
 * partition (`healAll` walked a spent iterator), which looked like a cluster that never recovered.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeProxyMesh } from "../../src/nemesis/proxyMesh.js"

describe("proxy mesh", () => {
  it.scoped("every heal heals every link, after any number of cuts", () =>
    Effect.gen(function* () {
      const mesh = yield* makeProxyMesh(3)
      for (let round = 0; round < 4; round++) {
        yield* round % 2 === 0 ? mesh.isolate(1 + (round % 3)) : mesh.silence(1 + (round % 3))
        assert.strictEqual(mesh.cutLinks(), round % 2 === 0 ? 4 : 2, `round ${round}: links cut by the fault`)
        yield* mesh.healAll
        assert.strictEqual(mesh.cutLinks(), 0, `round ${round}: links left cut after the heal`)
      }
    })
  )
})
