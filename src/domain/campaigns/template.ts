// Message templates: `Hello {{name}}, you have {{balance}} points`.
// - Only `{{ identifier }}` placeholders (letters, digits, _ and .); nothing is evaluated.
// - One pass: a value that itself contains `{{x}}` is inserted literally, never expanded.
// - Missing or null fields render as the empty string.
// - Values are escaped for where the message goes: HTML entities for email (the body may be
//   HTML), and control characters stripped for the plain-text channels (sms, push, line,
//   wechat) so a member-supplied name cannot inject line breaks or terminal escapes.
import type { Channel } from "./definition";

export type TemplateFields = Record<string, string | number | boolean | null | undefined>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]{0,63})\s*\}\}/g;
const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
// Plain-text channels get no control or line-separator characters from a field (\p{Cc} is U+0000–U+001F and U+007F–U+009F).
const stripControl = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]/gu, " ");

function escapeFor(channel: Channel, value: string): string {
  return channel === "email" ? escapeHtml(value) : stripControl(value);
}

export function renderTemplate(template: string, fields: TemplateFields, channel: Channel): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (value === undefined || value === null) return "";
    return escapeFor(channel, String(value));
  });
}

/** Placeholders a template uses (for validation messages and docs). */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}
