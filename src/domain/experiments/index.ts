// A/B experiments: deterministic assignment plus the statistics to read results and decide when to stop.

export type { VariantWeight } from "./assignment";
export { assignVariant, murmur3Hash32 } from "./assignment";
export type { TwoProportionResult } from "./stats";
export {
  evaluateStopRule,
  meanAndVarianceFromSums,
  pickWinner,
  requiredSampleSizePerGroup,
  twoProportionZTest,
  welchTTest,
  welchTTestFromSums,
} from "./stats";
