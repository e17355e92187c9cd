/**
 * One RPC connection to one store (TCP, framed msgpack), used by clients and by stores sending to
 * each other. Each call has a deadline, and transport failures become `StoreUnavailable` so callers
 * never see @effect/rpc's internals. The connection lives as long as the scope it was made in; a
 * broken socket reconnects in the background.
 */
import type { Rpc, RpcClient, RpcClientError } from "@effect/rpc"
import { Duration, Effect, Schema, type Scope } from "effect"
import { ONE_WAY_HEADER } from "../protocol/oneWay.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { dialRpcConnection } from "./dial.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import {
  describeRpcClientError,
  isRpcClientError,
  isTlsRefusal,
  isUnsent,
  RequestTimeout,
  StoreUnavailable
} from "./errors.js"

export type TinyKvRpcClient = RpcClient.FromGroup<typeof TinyKvRpcs, RpcClientError.RpcClientError>

export interface StoreConnection {
  readonly address: string
  /** Runs one call with the deadline and error mapping applied. */
  readonly call: <A, E>(
    method: string,
    f: (client: TinyKvRpcClient) => Effect.Effect<A, E | RpcClientError.RpcClientError>
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | StoreUnavailable | RequestTimeout>
}

/** What `connectStore` makes: a `StoreConnection` that can also carry store-to-store Raft batches. */
export interface PeerConnection extends StoreConnection {
  /**
   * Sends a store-to-store `Raft` batch that the store never answers (`src/protocol/oneWay.ts`): done once
   * the bytes are handed to the socket, with no deadline of its own (the caller sets one). Fails with
   * `StoreUnavailable` when the connection is down.
   */
  readonly raftOneWay: (messages: ReadonlyArray<RaftMessage>) => Effect.Effect<void, StoreUnavailable>
}

export interface StoreConnectionOptions {
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Dial with TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
}

const encodeRaftPayload = Schema.encode(
  (TinyKvRpcs.requests.get("Raft") as Rpc.AnyWithProps).payloadSchema as Schema.Schema<
    { readonly messages: ReadonlyArray<RaftMessage> },
    unknown
  >
)

/** A transport failure as callers see it. */
const unavailable = (address: string, e: RpcClientError.RpcClientError): StoreUnavailable =>
  new StoreUnavailable({
    address,
    message: describeRpcClientError(e),
    refused: isTlsRefusal(e),
    ...(isUnsent(e) ? { unsent: true } : {})
  })

const oneWayRequestHeaders: ReadonlyArray<[string, string]> = [[ONE_WAY_HEADER, "1"]]

export const connectStore = (
  address: string,
  options: StoreConnectionOptions = {}
): Effect.Effect<PeerConnection, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const { client, sendEncoded } = yield* Effect.mapError(
      dialRpcConnection(TinyKvRpcs, address, { tls: options.tls }),
      (e) => new StoreUnavailable({ address, message: e.message })
    )
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    // one-way requests are matched by nobody: their ids only need to be strings (what the server reads)
    let oneWayId = 0
    return {
      address,
      raftOneWay: (messages) =>
        encodeRaftPayload({ messages }).pipe(
          // NB: as @effect/rpc's client: a payload its own Schema cannot encode is a bug, not a refusal
          Effect.orDie,
          Effect.flatMap((payload) =>
            sendEncoded({
              _tag: "Request",
              id: String(++oneWayId),
              tag: "Raft",
              payload,
              headers: oneWayRequestHeaders
            })
          ),
          Effect.mapError((e) => unavailable(address, e))
        ),
      call: (method, f) =>
        f(client).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new RequestTimeout({ address, method, timeoutMs: Duration.toMillis(timeout) })
          }),
          Effect.catchIf(isRpcClientError, (e) => Effect.fail(unavailable(address, e)))
        ) as never
    }
  })
