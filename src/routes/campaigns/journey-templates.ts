import { z } from "@hono/zod-openapi";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { createFromTemplate, listJourneyTemplates } from "../../services/campaigns/journey-templates";
import { defineRoute } from "../route";
import { CampaignSchema } from "./schemas";

const TemplateParams = z
  .object({
    channel: z.enum(["email", "sms", "push", "line", "wechat"]).optional(),
    sendAt: z.string().optional().openapi({ description: "Local time of day the messages go out at (HH:MM)", example: "10:00" }),
    points: z.int().optional().openapi({ description: "Points of the award steps" }),
    withinMinor: z.int().optional().openapi({ description: "tier_nudge: how close (spend, minor units) to the next tier" }),
    daysAhead: z.int().optional().openapi({ description: "downgrade_warning: days before securedUntil (at least 8)" }),
  })
  .openapi("JourneyTemplateParams");

const JourneyTemplate = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    defaults: z.record(z.string(), z.unknown()),
    definition: z.record(z.string(), z.unknown()).openapi({ description: "The campaign definition the defaults give" }),
  })
  .openapi("JourneyTemplate");

export const listJourneyTemplatesRoute = defineRoute(
  {
    operationId: "journeyTemplates.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/journey-templates",
    tags: ["Campaigns"],
    summary: "Ready-made journeys",
    description:
      "Onboarding (first 7/30 days), post-purchase care and shopping reminder, the NT$X-more-to-the-next-tier nudge, the downgrade warning, dormant wake-up, the win-back ladder and the membership anniversary: each with its parameters' defaults and the campaign definition they give.",
    responses: { 200: jsonResponse(z.object({ data: z.array(JourneyTemplate) }), "The templates"), ...errorResponses() },
  },
  async (c) => c.json({ data: listJourneyTemplates() } as never, 200),
);

const CreateFromTemplate = z
  .object({
    params: TemplateParams.optional(),
    overrides: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Campaign definition fields that replace the template's (name, status, audience, experiment, journey, …)" }),
  })
  .strict()
  .openapi("CreateFromJourneyTemplate");

export const createFromJourneyTemplateRoute = defineRoute(
  {
    operationId: "journeyTemplates.createCampaign",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/journey-templates/{key}/campaigns",
    tags: ["Campaigns"],
    summary: "Create a journey campaign from a ready-made template",
    description:
      "The template's definition built from `params`, with `overrides` on top, validated and created as POST /v1/campaigns does. Audited.",
    request: {
      params: z.object({
        key: z
          .string()
          .max(64)
          .openapi({ param: { name: "key", in: "path" }, example: "tier_nudge" }),
      }),
      body: jsonBody(CreateFromTemplate, { params: { channel: "line", withinMinor: 100000 }, overrides: { name: "差 NT$1,000 升金卡" } }),
    },
    responses: { 201: jsonResponse(CampaignSchema, "The campaign"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { key } = c.req.valid("param");
    const body = c.req.valid("json");
    return c.json(
      (await createFromTemplate({ ctx: c.var.ctx, input: { programId, key, params: body.params, overrides: body.overrides } })) as never,
      201,
    );
  },
);
