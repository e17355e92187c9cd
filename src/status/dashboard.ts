/**
 * The scheduler's dashboard on its status listener: `/dashboard` (the page), `/api/cluster` (the JSON it
 * polls: `dashboardView.ts`), and `/` redirecting to the page. The stores' `/metrics` are read with the
 * `StatusClient` the status listener provides (HTTPS with the scheduler's certificate on a TLS cluster).
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { clusterSnapshot } from "../scheduler/clusterSnapshot.js"
import { Scheduler } from "../scheduler/service.js"
import { DASHBOARD_HTML } from "./dashboardPage.js"
import { dashboardView } from "./dashboardView.js"
import { StatusClient } from "./statusClient.js"

export const dashboardRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/", Effect.succeed(HttpServerResponse.redirect("/dashboard"))),
  HttpRouter.get("/dashboard", Effect.succeed(HttpServerResponse.html(DASHBOARD_HTML))),
  HttpRouter.get(
    "/api/cluster",
    Effect.gen(function* () {
      const snapshot = yield* clusterSnapshot(yield* Scheduler)
      const status = yield* StatusClient
      const view = yield* dashboardView(snapshot, status.scheme).pipe(Effect.provide(status.client))
      return HttpServerResponse.unsafeJson(view, { headers: { "cache-control": "no-store" } })
    })
  )
)
