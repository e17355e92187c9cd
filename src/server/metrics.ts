/** The store's request metrics (`tinykv_requests_total`, `tinykv_request_duration_seconds`). */
import { makeRequestMetrics } from "../rpc/requestMetrics.js"

export const storeRequests = makeRequestMetrics("tinykv", "store requests")
