/** The `TinyKvClient` service from its two halves: the raw API's senders and the transaction backend. */
import type { ClientError } from "./errors.js"
import { makeRawApi } from "./rawApi.js"
import type { SendToKey, SendToKeys } from "./send.js"
import { begin, transact } from "./transaction.js"
import type { TxnBackend } from "./txnBackend.js"
import type { TinyKvClientService } from "./types.js"

export const makeClientService = (
  send: SendToKey,
  sendKeys: SendToKeys,
  backend: TxnBackend<ClientError>
): TinyKvClientService => ({
  ...makeRawApi(send, sendKeys),
  begin: (o) => begin(backend, o),
  transact: (body, o) => transact(backend, body, o)
})
