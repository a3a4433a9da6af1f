import type { RouteModule } from "../route";
import * as changeTags from "./change-tags";
import * as eraseMember from "./erase-member";
import * as findMember from "./find-member";
import * as getMember from "./get-member";
import * as registerMember from "./register-member";
import * as updateMember from "./update-member";

export const memberRoutes: RouteModule[] = [registerMember, findMember, getMember, updateMember, changeTags, eraseMember];
