export const CHANNELS = ["email", "sms", "push", "line", "wechat"] as const;
export type Channel = (typeof CHANNELS)[number];
