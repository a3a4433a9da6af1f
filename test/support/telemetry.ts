/**
 * What the test Worker's telemetry wrote: every Analytics Engine data point, recorded on its
 * way to the real (locally simulated) METRICS binding. The Worker, its Durable Objects and the
 * tests share one isolate, so a test reads what the code under test wrote.
 */
export const recordedDataPoints: AnalyticsEngineDataPoint[] = [];

const wrapped = new WeakMap<AnalyticsEngineDataset, AnalyticsEngineDataset>();

/** `dataset` with every data point also recorded here. */
export function recordingDataset(dataset: AnalyticsEngineDataset | undefined): AnalyticsEngineDataset | undefined {
  if (!dataset) return dataset;
  let recording = wrapped.get(dataset);
  if (!recording) {
    recording = {
      writeDataPoint(point) {
        recordedDataPoints.push(structuredClone(point ?? {}));
        dataset.writeDataPoint(point);
      },
    };
    wrapped.set(dataset, recording);
  }
  return recording;
}
