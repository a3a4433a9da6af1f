import type { RouteModule } from "../route";
import * as createSegment from "./create-segment";
import * as deleteSegment from "./delete-segment";
import * as getSegment from "./get-segment";
import * as listSegmentMembers from "./list-segment-members";
import * as listSegments from "./list-segments";
import * as recomputeSegment from "./recompute-segment";
import * as updateSegment from "./update-segment";

export const segmentRoutes: RouteModule[] = [
  createSegment,
  listSegments,
  getSegment,
  updateSegment,
  deleteSegment,
  recomputeSegment,
  listSegmentMembers,
];
