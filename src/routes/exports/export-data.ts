import { z } from "@hono/zod-openapi";
import { errorResponses, Iso } from "../../lib/openapi";
import { EXPORT_KINDS, openExport } from "../../services/exports/exports";
import { defineRoute } from "../route";

const Query = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000).openapi({ description: "Rows in this response (at most)" }),
  cursor: z.string().max(500).optional().openapi({ description: "`X-Next-Cursor` of the previous response" }),
  updatedSince: Iso().optional().openapi({
    description:
      "Only rows changed (members) or recorded (ledger, orders, segment members, KPI snapshots) at or after this instant: for incremental sync to a warehouse",
  }),
  segmentId: z.string().max(64).optional().openapi({ description: "Required for segment-members", example: "seg_01jd..." }),
});

export const exportDataRoute = defineRoute(
  {
    operationId: "exports.get",
    // Bulk personal data: staff need the admin role, not just viewer.
    principals: { scopes: ["admin"], staff: "admin" },
    method: "get",
    path: "/v1/exports/{kind}",
    tags: ["Exports"],
    summary: "Stream members, ledger, orders, segment members or KPI snapshots",
    description:
      "NDJSON (`Accept: application/x-ndjson`, the default) or CSV (`Accept: text/csv`; header row in the first response only, text cells starting with = + - @ prefixed with ' against formula injection). Streamed in key order (members by last change, ledger and orders by when recorded), read 500 rows at a time so memory stays bounded. Each response carries up to `limit` rows; when more follow, `X-Next-Cursor` (and `Link: rel=next`) says where the next response starts. Keep the last cursor, or pass `updatedSince`, for incremental sync; a member changed while an export runs may appear again further on (take the last copy of each id). `npm run export` follows the cursors into a file.",
    request: {
      params: z.object({
        kind: z.enum(EXPORT_KINDS).openapi({ param: { name: "kind", in: "path" }, example: "members" }),
      }),
      query: Query,
    },
    responses: {
      200: {
        description: "Rows, one per line (NDJSON) or CSV",
        headers: z.object({
          "x-next-cursor": z.string().optional().openapi({ description: "Where the next response starts; absent on the last one" }),
        }),
        content: {
          "application/x-ndjson": { schema: z.string().openapi({ example: '{"id":"mem_01jd...","externalId":"cust-1001",...}\n' }) },
          "text/csv": { schema: z.string().openapi({ example: "id,externalId,...\r\nmem_01jd...,cust-1001,...\r\n" }) },
        },
      },
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { kind } = c.req.valid("param");
    const query = c.req.valid("query");
    const format = /\btext\/csv\b/i.test(c.req.header("accept") ?? "") ? "csv" : "ndjson";
    const { stream, nextCursor } = await openExport(c.var.ctx, { programId, kind, format, ...query });
    c.header("content-type", format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
    c.header("cache-control", "no-store");
    if (nextCursor) {
      c.header("x-next-cursor", nextCursor);
      const next = new URL(c.req.url);
      next.searchParams.set("cursor", nextCursor);
      c.header("link", `<${next.pathname}${next.search}>; rel="next"`);
    }
    return c.body(stream, 200) as never;
  },
);
