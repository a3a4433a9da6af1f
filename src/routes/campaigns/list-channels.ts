import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listChannels } from "../../services/campaigns-channels";
import { ChannelSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/channels",
  tags: ["Campaigns"],
  summary: "The program's message channel endpoints",
  description: "Scope: admin. Secrets are not shown (only a hint).",
  security: bearerSecurity,
  responses: { 200: jsonResponse(z.object({ data: z.array(ChannelSchema) }), "Configured channels"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json({ data: await listChannels({ ctx: c.var.ctx, input: { programId } }) }, 200);
  });
