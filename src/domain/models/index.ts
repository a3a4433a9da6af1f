export { type BgNbdParams, bgnbdLogLikelihood, conditionalExpectedPurchases, expectedPurchases, fitBgNbd, probabilityAlive } from "./bgnbd";
export { customerLifetimeValue, scoreMember } from "./clv";
export { type CustomerSummary, parseSummaryCsv, summaryFromRecord } from "./csv";
export { expectedAverageOrderValue, fitGammaGamma, gammaGammaLogLikelihood } from "./gamma-gamma";
