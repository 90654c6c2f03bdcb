/**
 * JWT template claims with Clerk-style `{{shortcode}}` interpolation. A string that is exactly
 * one shortcode takes the value's own type (e.g. null); shortcodes inside longer strings are
 * interpolated as text.
 */
import type { JwtTemplateDef } from "./seed";
import type { SessionRecord, UserRecord } from "./state";

function shortcodeValues(user: UserRecord, session: SessionRecord): Record<string, unknown> {
  return {
    "user.id": user.id,
    "user.first_name": user.first_name,
    "user.last_name": user.last_name,
    "user.full_name": `${user.first_name} ${user.last_name}`,
    "user.username": user.username,
    "user.primary_email_address": user.email_address,
    "user.image_url": `https://img.clerk.com/emulator/default-avatar/${user.id}`,
    "user.created_at": Math.floor(user.created_at / 1000),
    "user.public_metadata": {},
    "session.id": session.id,
    "session.actor": session.actor,
    "org.id": session.last_active_organization_id,
  };
}

const WHOLE = /^\{\{\s*([\w.]+)\s*\}\}$/;
const INLINE = /\{\{\s*([\w.]+)\s*\}\}/g;

function render(value: unknown, values: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return values[whole[1] ?? ""] ?? null;
    return value.replace(INLINE, (_, key: string) => {
      const v = values[key];
      return v === null || v === undefined ? "" : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => render(v, values));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, values)]));
  }
  return value;
}

export function renderTemplateClaims(
  template: JwtTemplateDef,
  user: UserRecord,
  session: SessionRecord,
): Record<string, unknown> {
  return render(template.claims, shortcodeValues(user, session)) as Record<string, unknown>;
}
