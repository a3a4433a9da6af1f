import { createApp } from "./app";
import { workerHandlers } from "./worker";

export { MemberLedger } from "./durable/member-ledger";
export { RateLimiter } from "./durable/rate-limiter";

export default workerHandlers(createApp());
