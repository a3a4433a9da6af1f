import { campaignDefinitionSchema } from "../../domain/campaigns/definition";
import { JOURNEY_TEMPLATES, type TemplateParams, templateByKey, templateParamsSchema } from "../../domain/campaigns/journey-templates";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { createCampaign } from "./campaigns";

/** Every ready-made journey with its parameters' defaults and the definition they give. */
export function listJourneyTemplates() {
  const defaults = templateParamsSchema.parse({});
  return JOURNEY_TEMPLATES.map((t) => ({
    key: t.key,
    name: t.name,
    description: t.description,
    defaults,
    definition: campaignDefinitionSchema.parse(t.build(defaults)),
  }));
}

/** A campaign from a template: its definition built from the parameters, then overridden by `overrides` (name, status, audience, …). */
export async function createFromTemplate({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; key: string; params?: Partial<TemplateParams>; overrides?: Record<string, unknown> };
}) {
  const template = templateByKey(input.key);
  if (!template) throw notFound("Journey template");
  const params = templateParamsSchema.safeParse(input.params ?? {});
  if (!params.success)
    throw new AppError(
      "invalid_request",
      `Invalid template parameters: ${params.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const definition = campaignDefinitionSchema.parse({ ...template.build(params.data), ...input.overrides });
  return createCampaign({ ctx, input: { programId: input.programId, definition } });
}
