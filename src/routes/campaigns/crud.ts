import { campaignDefinitionSchema } from "../../domain/campaigns/definition";
import { createCampaign, deleteCampaign, getCampaign, listCampaigns, updateCampaign } from "../../services/campaigns/campaigns";
import { adminCrudRoutes } from "../crud";
import { CampaignSchema, campaignExample } from "./schemas";

/**
 * /v1/campaigns: list, get, create, patch, delete (admin). A campaign = trigger (welcome,
 * birthday, tier_up, stage_change, points_expiring, broadcast) + audience segment + window +
 * frequency cap + actions (award_points, issue_reward, send_message) + optional budget and
 * A/B experiment (variants with weights and a holdout). Only a campaign that never fired
 * can be deleted; end it otherwise.
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
  list: (ctx, programId) => listCampaigns({ ctx, input: { programId } }),
  get: (ctx, { programId, id }) => getCampaign({ ctx, input: { programId, campaignId: id } }),
  create: (ctx, programId, definition) => createCampaign({ ctx, input: { programId, definition } }),
  update: (ctx, { programId, id, patch }) => updateCampaign({ ctx, input: { programId, campaignId: id, patch } }),
  remove: (ctx, { programId, id }) => deleteCampaign({ ctx, input: { programId, campaignId: id } }),
});
