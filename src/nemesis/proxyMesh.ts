/**
 * A `LinkProxy` on every directed link between the stores of a local cluster, and the partitions made of
 * them. Each store is told (`--peer-addresses`) to dial every peer through the proxy of that link; clients
 * and the scheduler are not proxied.
 */
import { Effect } from "effect"
import type { ClusterLayout, StoreLayout } from "../process/index.js"
import { type LinkProxy, makeLinkProxy } from "./linkProxy.js"

export interface ProxyMesh {
  /** The flags that route store `store`'s links through the proxies (`LocalClusterOptions.storeArgsFor`). */
  readonly storeArgsFor: (store: StoreLayout, layout: ClusterLayout) => ReadonlyArray<string>
  /** Cuts every link between `store` and the other stores, both ways. */
  readonly isolate: (store: number) => Effect.Effect<void>
  /** Cuts only what `store` sends: it still hears the others, they no longer hear it. */
  readonly silence: (store: number) => Effect.Effect<void>
  /** Heals every link. */
  readonly healAll: Effect.Effect<void>
  /** How many links are cut now. */
  readonly cutLinks: () => number
}

const linkName = (from: number, to: number) => `${from}->${to}`

/** Proxies for `stores` stores (ids 1..n), closed with the scope. */
export const makeProxyMesh = (stores: number) =>
  Effect.gen(function* () {
    const ids = Array.from({ length: stores }, (_, i) => i + 1)
    const links = new Map<string, LinkProxy>()
    for (const from of ids) {
      for (const to of ids) if (from !== to) links.set(linkName(from, to), yield* makeLinkProxy)
    }
    const link = (from: number, to: number) => links.get(linkName(from, to))!
    const mesh: ProxyMesh = {
      storeArgsFor: (store, layout) => {
        for (const peer of layout.stores) {
          for (const from of ids) if (from !== peer.id) link(from, peer.id).setTarget(peer.address)
        }
        const peers = ids.filter((id) => id !== store.id).map((id) => `${id}=127.0.0.1:${link(store.id, id).port}`)
        return ["--peer-addresses", peers.join(",")]
      },
      isolate: (store) =>
        Effect.forEach(
          ids.filter((id) => id !== store),
          (other) => Effect.zipRight(link(store, other).cut, link(other, store).cut),
          { discard: true }
        ),
      silence: (store) =>
        Effect.forEach(
          ids.filter((id) => id !== store),
          (other) => link(store, other).cut,
          { discard: true }
        ),
      // NB: an array, not `links.values()`: this effect runs once per heal, and an iterator is spent after the
      // first run — every later heal would then heal nothing and leave the cut links cut for good
      healAll: Effect.forEach([...links.values()], (l) => l.heal, { discard: true }),
      cutLinks: () => [...links.values()].filter((l) => l.isCut()).length
    }
    return mesh
  })
