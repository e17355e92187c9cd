/**
 * The raftstore, and who owns what (TinyKV `raftstore.go`, `router.go`, `raft_worker.go`,
 * `store_worker.go`). Each part is a service with a live layer, composed in `src/layers/raftStore.ts`:
 *
 * - `PeerRegistry` (`peerRegistry.ts`): the live peers, the failed regions, the "closed" flag
 *   and the two mailboxes. Shared state, with its writers named there.
 * - `Router` (`src/layers/router.ts`): only reads the registry and enqueues; refuses a closed store, a
 *   failed region or a stopped peer at once.
 * - `StoreWorker` (`src/services/StoreWorker.ts`, decisions in `storeWorker.ts`): store-level messages and
 *   the creation of peers for new regions.
 * - `RaftWorker` (`src/services/RaftWorker.ts`): owns every `Peer` and the rounds — `round.ts` (the loop
 *   body and its follow-ups), `roundContext.ts` (a round's working state), `peerHandlers.ts` (per-peer
 *   message, tick and command handlers), `raftWorker.ts` (`processReadies`: one write, at most one fsync, replies
 *   after it), `peerLifecycle.ts` (destroying and failing peers), `heartbeat.ts` (the scheduler).
 *
 * The whole store is started by `startRaftStore` / `layerRaftStore` in `src/layers/raftStore.ts`.
 */
export { RoundYield } from "./roundYield.js"
