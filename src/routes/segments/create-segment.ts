import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { createSegment } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { CreateSegmentBody, SegmentSchema } from "./schemas";

export const createSegmentRoute = defineRoute(
  {
    operationId: "segments.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/segments",
    tags: ["Segments"],
    summary: "Create a custom segment from a JSON rule",
    description: "The rule is validated (400 lists every problem) and membership is computed at once; the nightly cron keeps it current.",
    request: { body: jsonBody(CreateSegmentBody) },
    responses: { 201: jsonResponse(SegmentSchema, "The segment with its member count"), ...errorResponses(409) },
  },
  async (c, { programId }) => {
    return c.json(await createSegment({ ctx: c.var.ctx, input: { ...c.req.valid("json"), programId } }), 201);
  },
);
