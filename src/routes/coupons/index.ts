import type { RouteModule } from "../route";
import * as cancelCoupon from "./cancel-coupon";
import * as consumeCoupon from "./consume-coupon";
import * as getCoupon from "./get-coupon";

export const couponRoutes: RouteModule[] = [getCoupon, consumeCoupon, cancelCoupon];
