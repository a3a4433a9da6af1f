import { sql } from "drizzle-orm";
import { type IdPrefix, idTimePrefix } from "../lib/ids";

/**
 * Ids generated in SQL for set-based inserts, shaped like newId(): prefix, the current time in
 * sortable base32, 16 random characters. Build one per statement (per page of a sweep), never
 * once per sweep: the time prefix keeps each page's inserts at the end of every index keyed on
 * `id` (the primary key's; outbox_events' (dispatched_at, id) and (program_id, type, id)), while
 * under one shared prefix the random tails spread each page over all the rows the sweep has
 * written so far, and the sweep grows superlinearly (lifecycle at 100k members: 1,665 → 600 WAL
 * frames per 500-member page). The row's own time (`created_at`) is a separate column.
 */
export const sqlId = (prefix: IdPrefix) => sql.raw(`'${idTimePrefix(prefix)}' || lower(hex(randomblob(8)))`);
