import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { kpisToday } from "../../services/kpis/kpis";
import { defineRoute } from "../route";
import { KpiFiguresSchema } from "./schemas";

export const getTodayKpisRoute = defineRoute(
  {
    operationId: "kpis.today.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/kpis/today",
    tags: ["KPIs"],
    summary: "KPIs computed live, as of now",
    description:
      "The same figures as a snapshot, computed now; `day` is today in the program's time zone and members.new counts members who joined since its local midnight.",
    responses: {
      200: jsonResponse(z.object({ day: z.string(), timeZone: z.string(), asOf: z.string(), figures: KpiFiguresSchema }), "Live figures"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json((await kpisToday({ ctx: c.var.ctx, input: { programId } })) as never, 200);
  },
);
