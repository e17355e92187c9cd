/** The deterministic simulation slice of `npm test`, shard 2 (see `simSlice.ts`). */
import { describeShard } from "./simSlice.js"

describeShard(2)
