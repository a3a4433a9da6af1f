import { z } from "@hono/zod-openapi";

export const CouponCodeParam = z.object({
  code: z
    .string()
    .trim()
    .min(4)
    .max(32)
    .openapi({
      param: { name: "code", in: "path" },
      example: "7K3M9QX2PD",
      description: "Case-insensitive; spaces and dashes are ignored",
    }),
});
