/** The deterministic simulation slice of `npm test`, shard 3 (see `simSlice.ts`). */
import { describeShard } from "./simSlice.js"

describeShard(3)
