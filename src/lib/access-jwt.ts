/**
 * Staff sign-in through Cloudflare Access. Access sits in front of the dashboard's hostname,
 * signs each request it lets through with a JWT in `Cf-Access-Jwt-Assertion`, and publishes its
 * signing keys at <team domain>/cdn-cgi/access/certs. A request is a staff member's only if that
 * JWT verifies against those keys with the team domain as issuer and the Access application's
 * audience tag (ACCESS_AUD), unexpired; the person is its `email` claim.
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import type { Env } from "../env";
import { getOutboundJson } from "./outbound-fetch";

export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";

// Access rotates its keys every six weeks and publishes the next one ahead: a few minutes of cache
// costs nothing, and an unknown key id refetches once.
const KEYS_CACHE_MS = 5 * 60_000;
const keySets = new Map<string, { at: number; keys: ReturnType<typeof createLocalJWKSet> }>();

async function teamKeys(env: Env, teamDomain: string, refresh: boolean) {
  const cached = keySets.get(teamDomain);
  if (cached && !refresh && Date.now() - cached.at < KEYS_CACHE_MS) return cached.keys;
  const jwks = (await getOutboundJson(env, `${teamDomain}/cdn-cgi/access/certs`)) as JSONWebKeySet;
  const keys = createLocalJWKSet({ keys: Array.isArray(jwks?.keys) ? jwks.keys : [] });
  keySets.set(teamDomain, { at: Date.now(), keys });
  return keys;
}

/** Forget cached signing keys (tests that change a team's keys). */
export function forgetAccessKeys() {
  keySets.clear();
}

/** The signed-in person's email, or null when the token does not verify (any reason). */
export async function verifyAccessJwt(env: Env, token: string, config: { teamDomain: string; audience: string }): Promise<string | null> {
  const options = { issuer: config.teamDomain, audience: config.audience, algorithms: ["RS256", "ES256"], clockTolerance: 5 };
  for (const refresh of [false, true]) {
    try {
      const { payload } = await jwtVerify(token, await teamKeys(env, config.teamDomain, refresh), options);
      return typeof payload.email === "string" && payload.email.includes("@") ? payload.email.toLowerCase() : null;
    } catch (err) {
      // A key id we do not know yet: Access may have rotated; refetch once.
      if (!refresh && (err as { code?: string }).code === "ERR_JWKS_NO_MATCHING_KEY") continue;
      return null;
    }
  }
  return null;
}
