import type { RouteModule } from "../route";
import { createSegmentRoute } from "./create-segment";
import { deleteSegmentRoute } from "./delete-segment";
import { getSegmentRoute } from "./get-segment";
import { listSegmentMembersRoute } from "./list-segment-members";
import { listSegmentsRoute } from "./list-segments";
import { recomputeSegmentRoute } from "./recompute-segment";
import { updateSegmentRoute } from "./update-segment";

export const segmentRoutes: RouteModule[] = [
  createSegmentRoute,
  listSegmentsRoute,
  getSegmentRoute,
  updateSegmentRoute,
  deleteSegmentRoute,
  recomputeSegmentRoute,
  listSegmentMembersRoute,
];
