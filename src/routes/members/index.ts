import type { RouteModule } from "../route";
import { changeMemberTagsRoute } from "./change-tags";
import { createMemberTokenRoute } from "./create-token";
import { getCurrentMemberRoute } from "./current-member";
import { eraseMemberRoute } from "./erase-member";
import { exportMemberRoute } from "./export-member";
import { findMemberRoute } from "./find-member";
import { getMemberRoute } from "./get-member";
import { identifyMemberRoute } from "./identify-member";
import { getMemberCodeRoute } from "./member-code";
import { mergeMemberRoute } from "./merge-member";
import { registerMemberRoute } from "./register-member";
import { rotateMemberTokenKeyRoute } from "./rotate-token-key";
import { searchMembersRoute } from "./search-members";
import { updateMemberRoute } from "./update-member";

export const memberRoutes: RouteModule[] = [
  registerMemberRoute,
  findMemberRoute,
  identifyMemberRoute,
  // Before /v1/members/{memberId}, which would otherwise take "search" for an id.
  searchMembersRoute,
  getMemberRoute,
  updateMemberRoute,
  changeMemberTagsRoute,
  eraseMemberRoute,
  mergeMemberRoute,
  exportMemberRoute,
  createMemberTokenRoute,
  getCurrentMemberRoute,
  getMemberCodeRoute,
  rotateMemberTokenKeyRoute,
];
