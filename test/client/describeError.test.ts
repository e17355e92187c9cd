/** `describeError` names what could not be reached: a store, or the scheduler the cluster client asked. */
import { assert, describe, it } from "@effect/vitest"
import { describeError } from "../../src/client/errors.js"
import { StoreUnavailable } from "../../src/rpc/errors.js"

describe("describeError", () => {
  it("a store that does not answer is named as a store", () => {
    const e = new StoreUnavailable({ address: "127.0.0.1:20160", message: "connection refused" })
    assert.strictEqual(describeError(e), "cannot reach the store at 127.0.0.1:20160: connection refused")
  })

  it("a scheduler that does not answer is named as the scheduler", () => {
    const e = new StoreUnavailable({ address: "127.0.0.1:2379", message: "scheduler: this port requires TLS" })
    assert.strictEqual(describeError(e), "cannot reach the scheduler at 127.0.0.1:2379: this port requires TLS")
  })
})
