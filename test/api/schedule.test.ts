import { describe, expect, it } from "vitest";
import { schedule } from "../../src/cron/schedule";
import { queueConsumers } from "../../src/queues";
import wranglerToml from "../../wrangler.toml?raw";

/** The body of the first `[section]` / `[[section]]` table named `name`, up to the next table. */
const tables = (name: string) =>
  [...wranglerToml.matchAll(/^\[\[?([^\]]+)\]\]?\s*$/gm)]
    .map((m, i, all) => ({ name: m[1], body: wranglerToml.slice(m.index + m[0].length, all[i + 1]?.index ?? wranglerToml.length) }))
    .filter((t) => t.name === name)
    .map((t) => t.body);

describe("the Worker's triggers match wrangler.toml", () => {
  it("every cron expression in [triggers] has its jobs in src/cron/schedule.ts, and no other", () => {
    const [triggers] = tables("triggers");
    const crons = JSON.parse(/^crons\s*=\s*(\[[^\]]*\])/m.exec(triggers)![1]) as string[];
    expect(Object.keys(schedule).sort()).toEqual([...crons].sort());
    for (const jobs of Object.values(schedule)) expect(jobs.length).toBeGreaterThan(0);
  });

  it("every queue consumed in wrangler.toml has its consumer in src/queues.ts, and no other", () => {
    const queues = tables("queues.consumers").map((body) => /^queue\s*=\s*"([^"]+)"/m.exec(body)![1]);
    expect(Object.keys(queueConsumers).sort()).toEqual(queues.sort());
  });

  it("job names are unique", () => {
    const names = Object.values(schedule).flatMap((jobs) => jobs.map((j) => j.name));
    expect(new Set(names).size).toBe(names.length);
  });
});
