import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { createSegment } from "../../services/segments";
import { CreateSegmentBody, SegmentSchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/segments",
  tags: ["Segments"],
  summary: "Create a custom segment from a JSON rule",
  description:
    "Scopes: admin. The rule is validated (400 lists every problem) and membership is computed at once; the nightly cron keeps it current.",
  security: bearerSecurity,
  request: { body: jsonBody(CreateSegmentBody) },
  responses: { 201: jsonResponse(SegmentSchema, "The segment with its member count"), ...errorResponses(409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await createSegment({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId } }), 201);
  });
