import { campaignDefinitionSchema } from "../../domain/campaigns/definition";
import { createCampaign, deleteCampaign, getCampaign, listCampaigns, updateCampaign } from "../../services/campaigns/campaigns";
import { adminCrudRoutes } from "../crud";
import { CampaignSchema, campaignExample } from "./schemas";

/**
 * /v1/campaigns: list, get, create, patch, delete (admin). A campaign = trigger + audience
 * segment + window + frequency cap + actions (award_points, issue_reward, send_message) or a
 * multi-step journey + optional budget and A/B experiment (variants with weights and a
 * holdout). Only a campaign that never fired can be deleted; end it otherwise.
 */
export const campaignCrudRoutes = adminCrudRoutes({
  tag: "Campaigns",
  path: "/v1/campaigns",
  noun: "campaign",
  idParam: "campaignId",
  operationIds: {
    list: "campaigns.list",
    get: "campaigns.get",
    create: "campaigns.create",
    update: "campaigns.update",
    remove: "campaigns.delete",
  },
  createSchema: campaignDefinitionSchema,
  viewSchema: CampaignSchema,
  example: campaignExample,
  createDescription:
    "Triggers: welcome, first_purchase, birthday, anniversary, tier_up, stage_change, points_expiring, broadcast, segment_entry, close_to_next_tier (spend within withinMinor of the next tier), tier_at_risk (securedUntil within daysAhead and the figures would not keep the tier). " +
    "Either `actions` (award_points, issue_reward, send_message, all at once) or a `journey`: `steps` by id — send (channel, template), wait (days/hours/minutes, then optionally untilLocalTime HH:MM on the program's clock), branch (condition segment rule, purchased, opened or clicked since entry; `yes`/`no` step ids), award (points or rewardId, through the member's ledger), exit — each with `next` (none = the run ends), an optional entryStepId and `exitOn` (purchase, unsubscribe, stage_change). " +
    "Steps must not loop and must name existing steps (400 otherwise). A member walks a journey once at a time; experiment variants may start at their own entryStepId, the holdout gets no run. `priority` (0–100) decides between campaigns under the contact policy (PUT /v1/contact-policy). Ready-made journeys: GET /v1/journey-templates.",
  list: (ctx, programId) => listCampaigns({ ctx, input: { programId } }),
  get: (ctx, { programId, id }) => getCampaign({ ctx, input: { programId, campaignId: id } }),
  create: (ctx, programId, definition) => createCampaign({ ctx, input: { programId, definition } }),
  update: (ctx, { programId, id, patch }) => updateCampaign({ ctx, input: { programId, campaignId: id, patch } }),
  remove: (ctx, { programId, id }) => deleteCampaign({ ctx, input: { programId, campaignId: id } }),
});
