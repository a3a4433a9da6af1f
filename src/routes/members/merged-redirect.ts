import type { Context } from "hono";
import type { AppBindings } from "../../lib/context";
import { MemberSchema, type MemberView } from "../../services/members/view";

/**
 * How a lookup of a member merged away answers: `308 Permanent Redirect` to the member it was
 * merged into (a client that follows redirects lands there, with the same key), and the tombstone
 * as the body, so a client that does not can read `mergedInto` and update its own records.
 */
export const mergedRedirect = {
  response: {
    description: "The member was merged into another: `Location` is that member, the body the tombstone (`status: merged`, `mergedInto`)",
    headers: { Location: { description: "/v1/members/{mergedInto}", schema: { type: "string" as const } } },
    content: { "application/json": { schema: MemberSchema } },
  },
  send(c: Context<AppBindings>, tombstone: MemberView) {
    c.header("location", `/v1/members/${encodeURIComponent(tombstone.mergedInto as string)}`);
    c.header("cache-control", "private, no-store");
    return c.json(tombstone as never, 308) as never;
  },
};
