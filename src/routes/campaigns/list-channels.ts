import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listChannels } from "../../services/campaigns/channels";
import { defineRoute } from "../route";
import { ChannelSchema } from "./schemas";

export const listChannelsRoute = defineRoute(
  {
    operationId: "channels.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/channels",
    tags: ["Campaigns"],
    summary: "The program's message channel endpoints",
    description: "Secrets are not shown (only a hint).",
    responses: { 200: jsonResponse(z.object({ data: z.array(ChannelSchema) }), "Configured channels"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json({ data: await listChannels({ ctx: c.var.ctx, input: { programId } }) }, 200);
  },
);
