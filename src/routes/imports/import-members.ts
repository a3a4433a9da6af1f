import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ImportMembersBody, ImportResultSchema, importMemberProfiles } from "../../services/admin/ledger-import";
import { defineRoute } from "../route";

export const importMembersRoute = defineRoute(
  {
    operationId: "imports.members.create",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/imports/members",
    tags: ["Imports"],
    summary: "Import member profiles (migration), up to 1,000 per request",
    description:
      "Idempotent on `externalId`: a new member is inserted (`imported`, joined at `joinedAt`, acquisition channel `import` unless given), an existing one keeps their data (`existing`). No points move: import opening balances afterwards (`POST /v1/imports/balances`). Each request is audited (`import.members`, with its counts). Answers 200 with one result per row, in request order. `npm run import -- --kind members` sends files through this route.",
    request: {
      body: jsonBody(ImportMembersBody, {
        members: [{ externalId: "cust-1001", email: "ana@example.com", name: "Ana", joinedAt: "2021-05-04T09:00:00Z", consentEmail: true }],
      }),
    },
    responses: { 200: jsonResponse(ImportResultSchema, "One result per row"), ...errorResponses(413) },
  },
  async (c, { programId }) => c.json({ results: await importMemberProfiles(c.var.ctx, programId, c.req.valid("json").members) }, 200),
);
