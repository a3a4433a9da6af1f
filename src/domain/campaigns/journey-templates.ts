// Ready-made journeys: the lifecycle programmes the source articles describe (onboarding of
// new members, post-purchase care and the shopping reminder, the "NT$X more to Gold" nudge,
// the downgrade warning, dormant wake-up, the win-back ladder and the membership anniversary),
// each a campaign definition built from a few parameters. Messages are in Traditional Chinese,
// the articles' language; every text can be edited after the campaign is created.
import { z } from "zod";
import type { CampaignDefinition } from "./definition";
import type { JourneyStep } from "./journey";

/** New Taiwan dollars, as the articles write amounts. */
const NT = "NT$";
const CHANNEL = z.enum(["email", "sms", "push", "line", "wechat"]);

export const templateParamsSchema = z.strictObject({
  channel: CHANNEL.default("email"),
  /** Local time of day messages go out at. */
  sendAt: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
    .default("10:00"),
  /** Points the journey's award steps give. */
  points: z.int().min(1).max(1_000_000).default(100),
  /** close_to_next_tier: how far (minor units of spend) from the next tier counts as close. */
  withinMinor: z.int().min(1).default(100_000),
  /** tier_at_risk: how many days before securedUntil the warning starts. */
  daysAhead: z.int().min(8).max(365).default(30),
});
export type TemplateParams = z.infer<typeof templateParamsSchema>;

type Template = {
  key: string;
  name: string;
  description: string;
  build: (p: TemplateParams) => Omit<CampaignDefinition, "status" | "priority" | "attributionDays" | "audience" | "window" | "actions">;
};

const send = (id: string, p: TemplateParams, template: string, next?: string): JourneyStep => ({
  id,
  type: "send",
  channel: p.channel,
  template,
  ...(next ? { next } : {}),
});
const wait = (id: string, p: TemplateParams, days: number, next: string): JourneyStep => ({
  id,
  type: "wait",
  ...(days > 0 ? { days } : {}),
  untilLocalTime: p.sendAt,
  next,
});
const purchased = (id: string, yes: string, no: string): JourneyStep => ({ id, type: "branch", condition: { type: "purchased" }, yes, no });

export const JOURNEY_TEMPLATES: readonly Template[] = [
  {
    key: "onboarding",
    name: "新會員引導（首 7／30 天）",
    description:
      "Welcome at signup, a first-purchase nudge on day 1, points on day 7 for members who have not bought yet, a last reminder on day 30. Ends once they buy.",
    build: (p) => ({
      name: "新會員引導",
      trigger: { type: "welcome" },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          send("welcome", p, "{{name}} 您好，歡迎加入{{campaign}}！消費即可累積點數，點數可折抵、兌換好禮。", "day1"),
          wait("day1", p, 1, "first_purchase_tips"),
          send("first_purchase_tips", p, "{{name}}，首次消費就能開始累積點數，逛逛本週新品吧！", "day7"),
          wait("day7", p, 6, "bonus"),
          { id: "bonus", type: "award", points: p.points, next: "bonus_message" },
          send("bonus_message", p, `送您 ${p.points} 點入會禮，現在共有 {{balance}} 點，下次消費即可折抵。`, "day30"),
          wait("day30", p, 23, "last_reminder"),
          send("last_reminder", p, "{{name}}，您的 {{balance}} 點還沒用喔！會員專屬優惠等您來拿。"),
        ],
      },
    }),
  },
  {
    key: "post_purchase",
    name: "購後關懷與回購提醒",
    description:
      "After the first purchase: a thank-you right away, a care/review message on day 3, and on day 14 a shopping reminder for members who have not come back. Ends at the next purchase.",
    build: (p) => ({
      name: "購後關懷與回購提醒",
      trigger: { type: "first_purchase" },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          send("thanks", p, "{{name}}，感謝您的第一筆訂單！本次累積點數後共有 {{balance}} 點。", "day3"),
          wait("day3", p, 3, "care"),
          send("care", p, "商品使用還順利嗎？分享您的心得，幫助我們做得更好。", "day14"),
          wait("day14", p, 11, "reminder"),
          send("reminder", p, "{{name}}，好久不見！您的 {{balance}} 點可以折抵下一筆消費，回來逛逛吧。"),
        ],
      },
    }),
  },
  {
    key: "tier_nudge",
    name: "差 NT$X 升等提醒",
    description:
      "When a member's spend in the tier window is within withinMinor of the next tier: tell them how much is missing, and remind them once a week later if they have not bought.",
    build: (p) => ({
      name: "升等提醒",
      trigger: { type: "close_to_next_tier", withinMinor: p.withinMinor },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          wait("morning", p, 0, "nudge"),
          send("nudge", p, `{{name}}，再消費 ${NT}{{missingAmount}} 就能升級 {{nextTier}}，享更多會員禮遇！`, "week"),
          wait("week", p, 7, "reminder"),
          send("reminder", p, `只差 ${NT}{{missingAmount}} 就是 {{nextTier}} 了，別錯過升等機會！`),
        ],
      },
    }),
  },
  {
    key: "downgrade_warning",
    name: "降等預警",
    description:
      "daysAhead days before the tier's securedUntil, members whose figures would not keep the tier are told what keeps it; a second warning 7 days before.",
    build: (p) => ({
      name: "降等預警",
      trigger: { type: "tier_at_risk", daysAhead: p.daysAhead },
      journey: {
        exitOn: ["unsubscribe"],
        steps: [
          wait("morning", p, 0, "warning"),
          send(
            "warning",
            p,
            `{{name}}，您的 {{tier}} 會籍保留至 {{securedUntil}}，再消費 ${NT}{{keepMissingAmount}} 即可續享 {{tier}} 禮遇。`,
            "later",
          ),
          wait("later", p, p.daysAhead - 7, "still_at_risk"),
          purchased("still_at_risk", "thanks", "last_warning"),
          send("last_warning", p, "{{name}}，{{tier}} 會籍將於 7 天後到期，把握最後機會保級！"),
          send("thanks", p, "感謝您的支持！{{tier}} 會籍的保級進度已更新。"),
        ],
      },
    }),
  },
  {
    key: "dormant_wakeup",
    name: "沉睡會員喚醒",
    description: "When a member becomes dormant: a we-miss-you message, and a week later points as an incentive if they have not bought.",
    build: (p) => ({
      name: "沉睡會員喚醒",
      trigger: { type: "stage_change", to: ["dormant"] },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          wait("morning", p, 0, "miss_you"),
          send("miss_you", p, "{{name}}，好久不見！最近有新品上架，您的 {{balance}} 點也還在等您。", "week"),
          wait("week", p, 7, "incentive"),
          { id: "incentive", type: "award", points: p.points, next: "incentive_message" },
          send("incentive_message", p, `送您 ${p.points} 點，回來逛逛吧！目前共有 {{balance}} 點。`),
        ],
      },
    }),
  },
  {
    key: "winback_ladder",
    name: "流失會員挽回階梯",
    description:
      "When a member is at risk or churned: three rungs of rising incentive (a reminder, then points on day 7, then twice the points on day 21), stopping at the first purchase.",
    build: (p) => ({
      name: "流失會員挽回",
      trigger: { type: "stage_change", to: ["at_risk", "churned"] },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          wait("morning", p, 0, "rung1"),
          send("rung1", p, "{{name}}，我們想念您！您的 {{balance}} 點隨時可以使用。", "wait2"),
          wait("wait2", p, 7, "rung2_award"),
          { id: "rung2_award", type: "award", points: p.points, next: "rung2" },
          send("rung2", p, `送您 ${p.points} 點回娘家禮，現在共有 {{balance}} 點。`, "wait3"),
          wait("wait3", p, 14, "rung3_award"),
          { id: "rung3_award", type: "award", points: p.points * 2, next: "rung3" },
          send("rung3", p, `最後加碼 ${p.points * 2} 點！共有 {{balance}} 點，期待再見到您。`),
        ],
      },
    }),
  },
  {
    key: "anniversary",
    name: "入會週年",
    description: "On the anniversary of joining: points and a thank-you, at sendAt on the program's clock.",
    build: (p) => ({
      name: "入會週年",
      trigger: { type: "anniversary" },
      journey: {
        exitOn: ["unsubscribe"],
        steps: [
          wait("morning", p, 0, "gift"),
          { id: "gift", type: "award", points: p.points, next: "greeting" },
          send("greeting", p, `{{name}}，入會 {{years}} 週年快樂！送您 ${p.points} 點，感謝一路相伴。`),
        ],
      },
    }),
  },
];

export const templateByKey = (key: string) => JOURNEY_TEMPLATES.find((t) => t.key === key);
