import * as cancelCoupon from "./cancel-coupon";
import * as consumeCoupon from "./consume-coupon";
import * as getCoupon from "./get-coupon";

export const couponRoutes = [getCoupon, consumeCoupon, cancelCoupon];
