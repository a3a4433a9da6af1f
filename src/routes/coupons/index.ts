import type { RouteModule } from "../route";
import { cancelCouponRoute } from "./cancel-coupon";
import { consumeCouponRoute } from "./consume-coupon";
import { getCouponRoute } from "./get-coupon";

export const couponRoutes: RouteModule[] = [getCouponRoute, consumeCouponRoute, cancelCouponRoute];
