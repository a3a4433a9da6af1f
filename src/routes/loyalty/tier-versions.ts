import { z } from "@hono/zod-openapi";
import { notFound } from "../../lib/errors";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { listTierVersions } from "../../services/tiers/versions";
import { defineRoute } from "../route";

const TierVersionSchema = z
  .object({
    tierId: z.string(),
    version: z.number().int(),
    definition: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The tier's definition (qualification, benefits) in this version" }),
    createdAt: z.string(),
  })
  .openapi("TierVersion");

export const listTierVersionsRoute = defineRoute(
  {
    operationId: "tiers.versions.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/tiers/{tierId}/versions",
    tags: ["Tiers"],
    summary: "Every version of a tier's definition, newest first",
    description:
      "A tier's definition is versioned: each change of its benefits or thresholds is a new version. An order records the tier and version its checkout was placed under (`tierId`, `tierVersion`), and this says what that version granted.",
    request: {
      params: z.object({
        tierId: z
          .string()
          .min(1)
          .max(64)
          .openapi({ param: { name: "tierId", in: "path" }, example: "tier_01jd..." }),
      }),
    },
    responses: { 200: jsonResponse(z.object({ data: z.array(TierVersionSchema) }), "Versions, newest first"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { tierId } = c.req.valid("param");
    const data = await listTierVersions({ ctx: c.var.ctx, input: { programId, tierId } });
    if (data.length === 0) throw notFound("Tier");
    return c.json({ data }, 200);
  },
);
