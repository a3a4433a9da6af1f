import { errorResponses } from "../../lib/openapi";
import { deleteChannel } from "../../services/campaigns/channels";
import { defineRoute } from "../route";
import { ChannelParam } from "./schemas";

export const deleteChannelRoute = defineRoute(
  {
    operationId: "channels.delete",
    principals: { scopes: ["admin"] },
    method: "delete",
    path: "/v1/channels/{channel}",
    tags: ["Campaigns"],
    summary: "Remove a message channel endpoint",
    description: "Pending messages on the channel are then marked skipped_no_endpoint when due. Audited.",
    request: { params: ChannelParam },
    responses: { 204: { description: "Removed" }, ...errorResponses(404) },
  },
  async (c, { programId }) => {
    await deleteChannel({ ctx: c.var.ctx, input: { programId, channel: c.req.valid("param").channel } });
    return c.body(null, 204) as never;
  },
);
