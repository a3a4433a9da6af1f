/**
 * API versions, Stripe style: a client pins one with the `Loyalty-Version` header; without it a
 * request gets the version of its API key (the latest when the key was created) or, with no key
 * (operator, staff, member tokens, public routes), the latest. Every response says which version
 * answered it. A breaking change ships only behind a new version, listed here; a route that
 * changed renders the old shape for requests on an older version.
 */

export const API_VERSION_HEADER = "Loyalty-Version";

/** A change a client of the previous version must adapt to. */
type BreakingChange = {
  /** Where it shows: an operation id, or `webhooks` for delivery payloads. */
  area: string;
  summary: string;
  /** What a client pinned to the previous version keeps getting. */
  before: string;
  after: string;
};

/** One API version and what breaks against the one before it. Oldest first; the last is the latest. */
export type ApiVersionEntry = { version: string; released: string; summary: string; breaking: readonly BreakingChange[] };

export const API_CHANGELOG = [
  {
    version: "2026-06-01",
    released: "2026-06-01",
    summary: "The first versioned API: every key and webhook subscription from before versioning is on it.",
    breaking: [],
  },
  {
    version: "2026-12-01",
    released: "2026-12-01",
    summary: "Instants are named …At everywhere; webhook payloads carry their apiVersion.",
    breaking: [
      {
        area: "members.balance.get",
        summary: "The balance's next release instant is `nextReleaseAt`, like every other instant",
        before: "`nextRelease`: string | null",
        after: "`nextReleaseAt`: string | null",
      },
    ],
  },
] as const satisfies readonly ApiVersionEntry[];

export type ApiVersion = (typeof API_CHANGELOG)[number]["version"];

export const API_VERSIONS: readonly ApiVersion[] = API_CHANGELOG.map((v) => v.version);
export const FIRST_API_VERSION: ApiVersion = API_VERSIONS[0];
export const LATEST_API_VERSION: ApiVersion = API_VERSIONS[API_VERSIONS.length - 1];

export const isApiVersion = (value: string): value is ApiVersion => (API_VERSIONS as readonly string[]).includes(value);

/** Whether `version` is `since` or later (versions are ISO dates, so they compare as text). */
export const versionAtLeast = (version: ApiVersion, since: ApiVersion) => version >= since;

/** The changelog as Markdown (README, the OpenAPI document's description). */
export function changelogMarkdown(): string {
  const lines = ["| version | change | before | after |", "| --- | --- | --- | --- |"];
  for (const v of API_CHANGELOG) {
    if (v.breaking.length === 0) lines.push(`| ${v.version} | ${v.summary} | | |`);
    for (const b of v.breaking as readonly BreakingChange[])
      lines.push(`| ${v.version} | \`${b.area}\`: ${b.summary} | ${b.before} | ${b.after} |`);
  }
  return lines.join("\n");
}
