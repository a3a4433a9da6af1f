/**
 * The widget half of `npm run test:e2e`: the demo shop page (/widget/demo) embeds
 * <loyalty-panel>, signs in as a seeded member who can afford a reward, and checks against the
 * API: the balance and tier progress shown are the member's, redeeming (confirm, then the
 * coupon code) drops the balance by exactly the reward's cost, the panel switches to Traditional
 * Chinese, no console errors; screenshots at laptop and phone size in test-results/.
 */
import { join } from "node:path";

/** A seeded member (demo-0000000…) with an eligible, affordable reward, and what the API says of them. */
async function memberWithReward(base, key) {
  const get = async (path) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.json() };
  };
  for (let i = 0; i < 200; i++) {
    const externalId = `demo-${String(i).padStart(7, "0")}`;
    const found = await get(`/v1/members?externalId=${externalId}`);
    if (found.status !== 200 || found.body.status !== "active") continue;
    const catalog = await get(`/v1/members/${found.body.id}/rewards`);
    const reward = catalog.body.data.find((r) => r.eligible && r.affordable);
    const tier = await get(`/v1/members/${found.body.id}/tier`);
    if (reward && tier.status === 200)
      return {
        externalId,
        memberId: found.body.id,
        reward,
        tier: tier.body,
        balance: (await get(`/v1/members/${found.body.id}/balance`)).body,
      };
  }
  throw new Error("no seeded member among the first 200 can afford a reward");
}

export async function widgetInBrowser({ context, base, keys, check, log, resultsDir }) {
  const subject = await memberWithReward(base, keys.storefront);
  log(
    `widget: member ${subject.externalId}, ${subject.balance.available} points, reward "${subject.reward.name}" for ${subject.reward.pointsCost}`,
  );
  const page = await context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.url()}`);
  });

  await page.goto(`${base}/widget/demo`, { waitUntil: "load" });
  const panel = page.locator("loyalty-panel");
  await panel.locator("[data-state=signed-out]").waitFor({ timeout: 30_000 });
  check(true, "widget: the signed-out view is shown before sign-in");
  await page.locator("#storefront-key").fill(keys.storefront);
  await page.locator("#external-id").fill(subject.externalId);
  await page.locator("#sign-in button[type=submit]").click();
  await panel.locator("[data-state=ready]").waitFor({ timeout: 30_000 });

  const fmt = (n) => new Intl.NumberFormat("en").format(n);
  const shown = async () => (await panel.locator("[data-testid=balance]").textContent()).trim();
  check(
    (await shown()) === fmt(subject.balance.available),
    `widget: balance shown ${await shown()} = API ${fmt(subject.balance.available)}`,
  );
  check(
    (await panel.locator("[data-testid=tier-name]").textContent()) === subject.tier.current.name,
    `widget: tier ${subject.tier.current.name} shown`,
  );
  const percent = Number(await panel.locator("[role=progressbar]").getAttribute("aria-valuenow"));
  check(percent === subject.tier.percent, `widget: tier progress ${percent}% = API ${subject.tier.percent}%`);
  const progressText = (await panel.locator("[data-testid=tier-progress]").textContent()).trim();
  check(
    subject.tier.next ? progressText.includes(subject.tier.next.name) : progressText.includes(subject.tier.current.name),
    `widget: tier progress says "${progressText}"`,
  );
  check((await panel.locator("[data-testid=referral-link]").inputValue()).includes("ref="), "widget: referral link shown");
  await page.screenshot({ path: join(resultsDir, "widget.png"), fullPage: true });
  log("screenshot test-results/widget.png");

  // Redeem: the button asks for confirmation, then the coupon code is shown and the balance drops by the cost.
  await panel.locator(`[data-reward="${subject.reward.id}"] button`).click();
  await panel.locator("[role=alertdialog]").waitFor();
  await panel.locator("#confirm-yes").click();
  await panel.locator("[data-testid=coupon] .code").waitFor({ timeout: 30_000 });
  const code = (await panel.locator("[data-testid=coupon] .code").textContent()).trim();
  check(code.length > 0, `widget: coupon code ${code} shown after redeeming`);
  const after = await (
    await fetch(`${base}/v1/members/${subject.memberId}/balance`, { headers: { authorization: `Bearer ${keys.storefront}` } })
  ).json();
  check(
    after.available === subject.balance.available - subject.reward.pointsCost,
    `widget: balance dropped by exactly the cost (${subject.balance.available} → ${after.available}, cost ${subject.reward.pointsCost})`,
  );
  check((await shown()) === fmt(after.available), `widget: the panel shows the new balance ${await shown()}`);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("#lang").selectOption("zh-TW");
  await panel.locator("[lang=zh-TW][data-state=ready]").waitFor({ timeout: 30_000 });
  check((await panel.locator("#bal-title").textContent()) === "可用點數", "widget: Traditional Chinese when lang is zh-TW");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `widget: no horizontal scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: join(resultsDir, "widget-phone.png"), fullPage: true });
  log("screenshot test-results/widget-phone.png");

  await page.locator("#sign-out").click();
  await panel.locator("[data-state=signed-out]").waitFor({ timeout: 30_000 });
  check(true, "widget: sign out shows the signed-out view");
  check(problems.length === 0, `widget: no console errors${problems.length ? `: ${problems.join(" | ")}` : ""}`);
  await page.close();
}
