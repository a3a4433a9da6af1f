import { z } from "@hono/zod-openapi";
import { contactPolicySchema } from "../../domain/campaigns/contact-policy";
import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { getContactPolicy, putContactPolicy } from "../../services/campaigns/contact-policy";
import { defineRoute } from "../route";

const localTime = z.string().openapi({ description: "HH:MM on the program's clock", example: "21:00" });
const ContactPolicySchema = z
  .object({
    maxPerDay: z
      .int()
      .nullable()
      .openapi({ description: "Messages one member may receive per local day, across all campaigns and journeys" }),
    maxPerWeek: z.int().nullable().openapi({ description: "Per local week, Monday to Sunday" }),
    quietHours: z.object({ start: localTime, end: localTime }).nullable().openapi({
      description: "Nothing is sent in [start, end) local time (start after end spans midnight); messages wait for the end",
    }),
  })
  .openapi("ContactPolicy");
const example = { maxPerDay: 1, maxPerWeek: 3, quietHours: { start: "21:00", end: "09:00" } };

export const getContactPolicyRoute = defineRoute(
  {
    operationId: "contactPolicy.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/contact-policy",
    tags: ["Campaigns"],
    summary: "The program-wide contact policy",
    description: "Caps on messages per member per day and week, and quiet hours, applied when messages are delivered. Null = no limit.",
    responses: { 200: jsonResponse(ContactPolicySchema, "The policy"), ...errorResponses() },
  },
  async (c, { programId }) => c.json(await getContactPolicy({ ctx: c.var.ctx, input: { programId } }), 200),
);

export const putContactPolicyRoute = defineRoute(
  {
    operationId: "contactPolicy.set",
    principals: { scopes: ["admin"] },
    method: "put",
    path: "/v1/contact-policy",
    tags: ["Campaigns"],
    summary: "Set the program-wide contact policy",
    description:
      "Applied at delivery, across every campaign and journey of the program, on the program's clock: a message due in quiet hours waits until they end (it is not dropped); when a member's messages compete for what is left of the day's or week's cap, the campaigns' `priority` decides (higher first, then the oldest) and the rest are skipped_contact_policy. Audited; bumps the configuration version.",
    request: { body: jsonBody(contactPolicySchema, example) },
    responses: { 200: jsonResponse(ContactPolicySchema, "The policy now"), ...errorResponses() },
  },
  async (c, { programId }) => c.json(await putContactPolicy({ ctx: c.var.ctx, input: { programId, policy: c.req.valid("json") } }), 200),
);
