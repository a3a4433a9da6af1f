import type { Context, MiddlewareHandler } from "hono";
import { API_VERSION_HEADER, API_VERSIONS, type ApiVersion, isApiVersion, LATEST_API_VERSION } from "../lib/api-version";
import type { AppBindings } from "../lib/context";
import { AppError } from "../lib/errors";

/**
 * The API version a request is answered in: its `Loyalty-Version` header, else its API key's
 * version, else (operator, staff, member tokens, public routes) the latest.
 */
export function requestApiVersion(c: Context<AppBindings>): ApiVersion {
  const asked = c.req.header(API_VERSION_HEADER);
  if (asked && isApiVersion(asked)) return asked;
  return c.get("principal")?.apiVersion ?? LATEST_API_VERSION;
}

/**
 * An unknown `Loyalty-Version` is refused before anything else runs (a client coded against a
 * version this deployment does not know must not get some other shape); every answer says the
 * version it was rendered in.
 */
export const apiVersioning: MiddlewareHandler<AppBindings> = async (c, next) => {
  const asked = c.req.header(API_VERSION_HEADER);
  if (asked !== undefined && !isApiVersion(asked))
    throw new AppError(
      "unknown_api_version",
      `Unknown ${API_VERSION_HEADER} ${JSON.stringify(asked.slice(0, 40))}: this API has ${API_VERSIONS.join(", ")}`,
      { versions: API_VERSIONS },
    );
  await next();
  c.res.headers.set(API_VERSION_HEADER, requestApiVersion(c));
};
