-- A coupon leaves `issued` once: consumed or cancelled, never both. The consume UPDATE and
-- the cancel planner already check the status; this is the database's second line when a
-- consume (storefront) and a cancel (member's Durable Object) race on the same coupon.
CREATE TRIGGER coupons_status_guard
BEFORE UPDATE OF status ON coupons
WHEN OLD.status <> 'issued' AND NEW.status <> OLD.status
BEGIN
  SELECT RAISE(ABORT, 'coupon_not_issued');
END;
