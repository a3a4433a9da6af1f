import { and, isNotNull, notLike, or, sql } from "drizzle-orm";
import { programs, webhooks } from "../../../schema";
import { database } from "../../db/client";
import { CHANNELS } from "../../domain/campaigns/definition";
import type { Env } from "../../env";
import { currentSecretsKeyId, resealed, secretContext } from "../../lib/secret-box";

type Statement = ReturnType<ReturnType<typeof database>["run"]>;

/**
 * Reseal stored secrets under the current key (SECRETS_KEK): values sealed under the previous key
 * during a rotation, and values stored in the clear before sealing existed. Up to `batchSize`
 * webhooks and programs per run, one write batch; each write is a compare-and-set on the value it
 * read, so a rotation that lands meanwhile is never overwritten. A value that does not open (its
 * key is no longer configured) is left as it is, counted as `unopenable` and logged as an error.
 */
export async function resealSecrets(env: Env, batchSize: number) {
  const db = database(env);
  const current = `sbx1:${await currentSecretsKeyId(env)}:%`;
  const [hooks, programRows] = await db.batch([
    db
      .select({ id: webhooks.id, secret: webhooks.secret, previousSecret: webhooks.previousSecret })
      .from(webhooks)
      .where(or(notLike(webhooks.secret, current), and(isNotNull(webhooks.previousSecret), notLike(webhooks.previousSecret, current))))
      .limit(batchSize),
    db
      .select({ id: programs.id, settings: programs.settings })
      .from(programs)
      .where(
        sql`json_extract(${programs.settings}, '$.partnerSigningSecret') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.partnerSigningSecretPrevious') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.memberTokenKey') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.memberTokenKeyPrevious') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.widgetSecret') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.widgetSecretPrevious') NOT LIKE ${current}
          OR json_extract(${programs.settings}, '$.memberCodeSecret') NOT LIKE ${current}
          OR EXISTS (SELECT 1 FROM json_each(${programs.settings}, '$.channels') c WHERE json_extract(c.value, '$.secret') NOT LIKE ${current})`,
      )
      .limit(batchSize),
  ]);

  const statements: Statement[] = [];
  const unopenable: string[] = [];
  const attempt = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch {
      unopenable.push(what);
    }
  };

  for (const w of hooks) {
    await attempt(`webhook ${w.id}`, async () => {
      const context = secretContext.webhook(w.id);
      const [secret, previous] = await Promise.all([resealed(env, w.secret, context), resealed(env, w.previousSecret, context)]);
      if (secret === null && previous === null) return;
      statements.push(
        db.run(sql`UPDATE webhooks SET secret = ${secret ?? w.secret}, previous_secret = ${previous ?? w.previousSecret}
                   WHERE id = ${w.id} AND secret = ${w.secret} AND previous_secret IS ${w.previousSecret}`),
      );
    });
  }

  for (const p of programRows) {
    const settings = (p.settings ?? {}) as Record<string, unknown>;
    const channels = (settings.channels ?? {}) as Record<string, { secret?: unknown }>;
    const stored: Array<{ path: string; value: unknown; context: string }> = [
      { path: "$.partnerSigningSecret", value: settings.partnerSigningSecret, context: secretContext.partner(p.id) },
      { path: "$.partnerSigningSecretPrevious", value: settings.partnerSigningSecretPrevious, context: secretContext.partner(p.id) },
      { path: "$.memberTokenKey", value: settings.memberTokenKey, context: secretContext.memberToken(p.id) },
      { path: "$.memberTokenKeyPrevious", value: settings.memberTokenKeyPrevious, context: secretContext.memberToken(p.id) },
      { path: "$.widgetSecret", value: settings.widgetSecret, context: secretContext.widget(p.id) },
      { path: "$.widgetSecretPrevious", value: settings.widgetSecretPrevious, context: secretContext.widget(p.id) },
      { path: "$.memberCodeSecret", value: settings.memberCodeSecret, context: secretContext.memberCode(p.id) },
      ...CHANNELS.map((ch) => ({ path: `$.channels.${ch}.secret`, value: channels[ch]?.secret, context: secretContext.channel(p.id, ch) })),
    ];
    for (const { path, value, context } of stored) {
      if (typeof value !== "string") continue;
      await attempt(`program ${p.id} ${path}`, async () => {
        const next = await resealed(env, value, context);
        if (next === null) return;
        statements.push(
          db.run(sql`UPDATE programs SET settings = json_set(settings, ${path}, ${next})
                     WHERE id = ${p.id} AND json_extract(settings, ${path}) = ${value}`),
        );
      });
    }
  }

  if (statements.length > 0) await db.batch(statements as [Statement, ...Statement[]]);
  if (unopenable.length > 0)
    console.error(
      JSON.stringify({
        level: "error",
        kind: "secrets",
        message: "stored secrets sealed under a key that is not configured (restore SECRETS_KEK_PREVIOUS)",
        where: unopenable.slice(0, 20),
      }),
    );
  return { resealed: statements.length, unopenable: unopenable.length };
}
