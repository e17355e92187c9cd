/** The `TinyKvClient` service from its two halves: the raw API's sender and the transaction backend. */
import type { ClientError } from "./errors.js"
import { makeRawApi } from "./rawApi.js"
import type { SendToKey } from "./send.js"
import { begin, transact } from "./transaction.js"
import type { TxnBackend } from "./txnBackend.js"
import type { TinyKvClientService } from "./types.js"

export const makeClientService = (send: SendToKey, backend: TxnBackend<ClientError>): TinyKvClientService => ({
  ...makeRawApi(send),
  begin: (o) => begin(backend, o),
  transact: (body, o) => transact(backend, body, o)
})
