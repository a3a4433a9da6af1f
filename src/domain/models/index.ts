export {
  type BgNbdFit,
  type BgNbdFitOptions,
  type BgNbdParams,
  bgnbdLogLikelihood,
  conditionalExpectedPurchases,
  expectedPurchases,
  fitBgNbd,
  type PurchaseSummary,
  probabilityAlive,
} from "./bgnbd";
export {
  customerLifetimeValue,
  type LifetimeValueInput,
  type MemberHistory,
  type MemberScore,
  PERIODS_PER_DAY,
  PERIODS_PER_MONTH,
  scoreMember,
  type TimeUnit,
} from "./clv";
export { type CustomerSummary, parseSummaryCsv, summaryFromRecord } from "./csv";
export { type MinimizeOptions, type MinimizeResult, minimize, nelderMead } from "./fit";
export {
  expectedAverageOrderValue,
  fitGammaGamma,
  type GammaGammaFit,
  type GammaGammaParams,
  gammaGammaLogLikelihood,
  type SpendSummary,
} from "./gamma-gamma";
