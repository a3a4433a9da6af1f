import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { deleteChannel } from "../../services/campaigns-channels";
import { ChannelParam } from "./schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/channels/{channel}",
  tags: ["Campaigns"],
  summary: "Remove a message channel endpoint",
  description: "Scope: admin. Pending messages on the channel are then marked skipped_no_endpoint when due. Audited.",
  security: bearerSecurity,
  request: { params: ChannelParam },
  responses: { 204: { description: "Removed" }, ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    await deleteChannel({ ctx: c.var.ctx, input: { programId, channel: c.req.valid("param").channel } });
    return c.body(null, 204) as never;
  });
