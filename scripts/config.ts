/**
 * Config as code, through the admin API (`LOYALTY_ADMIN_KEY`, not the database token):
 *
 *   npm run config:export -- --program <id> > program.json
 *   npm run config:apply -- --program <id> --file program.json [--dry-run]
 *
 * Export prints `GET /v1/program/config`. Apply sends the file to `PUT /v1/program/config`
 * and prints the plan (one line per create/update/delete); with --dry-run nothing is written.
 * `--program` must be the program the key belongs to, so a key for another program cannot
 * silently receive the file.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const [command] = process.argv.slice(2);
const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    program: { type: "string" },
    file: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    url: { type: "string", default: process.env.LOYALTY_URL ?? "http://127.0.0.1:8787" },
  },
});
const key = process.env.LOYALTY_ADMIN_KEY;
if (!key || !values.program || (command !== "export" && command !== "apply") || (command === "apply" && !values.file)) {
  console.error(
    "usage: LOYALTY_ADMIN_KEY=le_admin_… npm run config:export -- --program <id> > program.json\n" +
      "       LOYALTY_ADMIN_KEY=le_admin_… npm run config:apply -- --program <id> --file program.json [--dry-run]\n" +
      "       [--url http://127.0.0.1:8787]",
  );
  process.exit(2);
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${values.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    console.error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    process.exit(1);
  }
  return json;
}

const program = (await api("GET", "/v1/program")) as { id: string; name: string };
if (program.id !== values.program) {
  console.error(`the key belongs to program ${program.id} (${program.name}), not ${values.program}`);
  process.exit(2);
}
if (command === "export") {
  process.stdout.write(`${JSON.stringify(await api("GET", "/v1/program/config"), null, 2)}\n`);
} else {
  const document = JSON.parse(readFileSync(values.file!, "utf8"));
  const dryRun = values["dry-run"];
  const plan = (await api("PUT", `/v1/program/config${dryRun ? "?dryRun=true" : ""}`, document)) as {
    changes: { kind: string; key: string; action: string }[];
    configVersion: number;
  };
  const sign = { create: "+", update: "~", delete: "-" } as Record<string, string>;
  for (const c of plan.changes) console.log(`${sign[c.action] ?? "?"} ${c.kind} ${c.key}`);
  console.log(
    plan.changes.length === 0
      ? "no changes"
      : `${plan.changes.length} change(s) ${dryRun ? "planned (dry run: nothing written)" : `applied; configVersion ${plan.configVersion}`}`,
  );
}
