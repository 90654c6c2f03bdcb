/**
 * The Active devices page: the signed-in user's active sessions, "this device" marked,
 * each other one revocable after a confirmation. Talks to the gateway only through the
 * typed client. Where the token comes from depends on /devices/config.json:
 * - "emulator" (npm start): a seeded user is signed in through the Clerk emulator's dev endpoint;
 * - "clerk" (deployed): clerk-js from the instance's Frontend API, `Clerk.session.getToken()`.
 */
import { createGatewayClient, type FapiActiveSession, GatewayError } from "../client/index";
import { type Auth, clerkAuth, type EmulatorAuth, emulatorAuth, type PageConfig } from "./auth";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  who: $<HTMLParagraphElement>("who"),
  signOut: $<HTMLButtonElement>("sign-out"),
  error: $<HTMLDivElement>("error"),
  status: $<HTMLParagraphElement>("status"),
  signIn: $<HTMLElement>("sign-in"),
  signInForm: $<HTMLFormElement>("sign-in-form"),
  user: $<HTMLSelectElement>("user"),
  clerkSignIn: $<HTMLDivElement>("clerk-sign-in"),
  section: $<HTMLElement>("devices-section"),
  list: $<HTMLUListElement>("devices"),
  refresh: $<HTMLButtonElement>("refresh"),
  confirm: $<HTMLDialogElement>("confirm"),
  confirmText: $<HTMLParagraphElement>("confirm-text"),
};

/** Plain words for the errors a person can act on; anything else shows the gateway's own message. */
function explain(error: unknown): string {
  if (error instanceof GatewayError) {
    switch (error.code) {
      case "session_reverification_required":
        return "For your security, sign in again before signing out other devices (your last sign-in was too long ago).";
      case "authentication_invalid":
        return "Your session has ended or could not be verified. Sign in again.";
      case "resource_not_found":
        return "That device is no longer signed in.";
      case "rate_limit_exceeded":
        return `Too many changes at once. Try again in ${error.retryAfterSeconds ?? "a few"} seconds.`;
      case "upstream_unavailable":
        return "Clerk is not answering right now, so nothing was changed. Try again in a moment.";
      default:
        return `${error.message} (${error.code}, HTTP ${error.status})`;
    }
  }
  if (error instanceof TypeError) return "The gateway could not be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

function showError(error: unknown) {
  ui.error.textContent = explain(error);
  ui.error.hidden = false;
}
function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}
const say = (text: string) => {
  ui.status.textContent = text;
};

const regionNames = (() => {
  try {
    return new Intl.DisplayNames([navigator.language || "en"], { type: "region" });
  } catch {
    return undefined;
  }
})();

/** The browsers Clerk's activity records name (a User-Agent's product otherwise: an SDK, curl, a backend). */
const BROWSERS = /^(Chrome|Chromium|Safari|Mobile Safari|Firefox|Edge|Opera|Samsung Internet|Brave|Vivaldi|Arc)\b/i;

export function deviceName(session: FapiActiveSession): string {
  const a = session.latest_activity;
  if (!a) return "Unknown device";
  if (!a.device_type && !a.is_mobile && a.browser_name && !BROWSERS.test(a.browser_name)) {
    // Created by a program (Clerk's Backend API, here through the gateway), not signed in from a
    // browser: its "browser" is the program's name and full version, and there is no device.
    return `API client: ${[a.browser_name, a.browser_version].filter(Boolean).join(" ")}`;
  }
  const browser = [a.browser_name, a.browser_version?.split(".")[0]].filter(Boolean).join(" ");
  const device = a.device_type || (a.is_mobile ? "Mobile device" : "Computer");
  return browser ? `${browser} on ${device}` : device;
}

function place(session: FapiActiveSession): string {
  const a = session.latest_activity;
  if (!a) return "Location unknown";
  let country = a.country;
  if (country && regionNames) {
    try {
      country = regionNames.of(country) ?? country;
    } catch {}
  }
  const where = [a.city, country].filter(Boolean).join(", ");
  return [where || "Location unknown", a.ip_address].filter(Boolean).join(" · ");
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
function ago(ms: number): string {
  const seconds = Math.round((ms - Date.now()) / 1000);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  for (const [unit, size] of units)
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  return "just now";
}

let auth: Auth;
let sessions: FapiActiveSession[] = [];
const client = createGatewayClient({ baseUrl: "", token: () => auth.token() });

function render() {
  const current = auth.sessionId();
  // This device first, then the most recently active.
  const ordered = [...sessions].sort((a, b) =>
    a.id === current ? -1 : b.id === current ? 1 : b.last_active_at - a.last_active_at,
  );
  ui.list.replaceChildren(
    ...ordered.map((session) => {
      const item = document.createElement("li");
      item.className = session.id === current ? "device current" : "device";
      item.dataset.sessionId = session.id;
      const text = document.createElement("div");
      const title = document.createElement("h3");
      title.textContent = deviceName(session);
      if (session.id === current) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "This device";
        title.append(badge);
      }
      const where = document.createElement("p");
      where.textContent = place(session);
      const when = document.createElement("p");
      const time = document.createElement("time");
      time.dateTime = new Date(session.last_active_at).toISOString();
      time.title = new Date(session.last_active_at).toLocaleString();
      time.textContent = ago(session.last_active_at);
      when.append("Last active ", time);
      text.append(title, where, when);
      item.append(text);
      if (session.id !== current) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "revoke";
        button.textContent = "Sign out";
        button.setAttribute("aria-label", `Sign out ${deviceName(session)}, ${place(session)}`);
        button.addEventListener("click", () => confirmRevoke(session, button));
        item.append(button);
      }
      return item;
    }),
  );
  ui.section.hidden = false;
}

async function load() {
  clearError();
  say("Loading your devices…");
  try {
    sessions = await client.me.activeSessions();
    render();
    say(`${sessions.length} active ${sessions.length === 1 ? "device" : "devices"}.`);
  } catch (error) {
    say("");
    showError(error);
    if (error instanceof GatewayError && error.status === 401) await auth.signedOut();
  }
}

function ask(session: FapiActiveSession): Promise<boolean> {
  ui.confirmText.textContent = `${deviceName(session)} (${place(session)}) will be signed out at once and will have to sign in again.`;
  ui.confirm.returnValue = "";
  ui.confirm.showModal();
  return new Promise((resolve) =>
    ui.confirm.addEventListener("close", () => resolve(ui.confirm.returnValue === "revoke"), { once: true }),
  );
}

async function confirmRevoke(session: FapiActiveSession, button: HTMLButtonElement) {
  if (!(await ask(session))) {
    button.focus();
    return;
  }
  clearError();
  button.disabled = true;
  say(`Signing out ${deviceName(session)}…`);
  try {
    await client.me.revoke(session.id);
    // The list changes at once; the gateway has already written the revocation through its cache.
    sessions = sessions.filter((s) => s.id !== session.id);
    render();
    say(
      `${deviceName(session)} was signed out. ${sessions.length} active ${sessions.length === 1 ? "device" : "devices"}.`,
    );
    ui.refresh.focus();
  } catch (error) {
    button.disabled = false;
    say("");
    showError(error);
    button.focus();
  }
}

async function showEmulatorSignIn(emulator: EmulatorAuth) {
  ui.signIn.hidden = false;
  ui.section.hidden = true;
  ui.who.hidden = true;
  ui.signOut.hidden = true;
  try {
    const users = await emulator.users();
    ui.user.replaceChildren(
      ...users.map((u) => {
        const option = document.createElement("option");
        option.value = u.username;
        option.textContent = `${u.first_name} ${u.last_name} (${u.username})`;
        return option;
      }),
    );
  } catch (error) {
    showError(error);
  }
}

async function start() {
  const config = (await fetch("/devices/config.json").then((r) => r.json())) as PageConfig;
  if (config.mode === "emulator") {
    const emulator = emulatorAuth(config.emulator_url);
    auth = emulator;
    emulator.onSignedOut = () => showEmulatorSignIn(emulator);
    ui.signInForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      try {
        await emulator.signIn(ui.user.value);
        ui.signIn.hidden = true;
        await signedIn();
      } catch (error) {
        showError(error);
      }
    });
  } else {
    auth = await clerkAuth(config, ui.clerkSignIn, () => signedIn());
  }
  ui.signOut.addEventListener("click", async () => {
    // Locally, signing out ends this session in the emulator too, as clerk-js's signOut() does in Clerk.
    const current = auth.sessionId();
    if (config.mode === "emulator" && current) await client.me.revoke(current).catch(() => {});
    await auth.signOut();
    sessions = [];
    ui.list.replaceChildren();
    say("Signed out.");
  });
  ui.refresh.addEventListener("click", () => load());
  if (auth.sessionId()) await signedIn();
  else await auth.signedOut();
}

async function signedIn() {
  ui.who.textContent = `Signed in as ${auth.userLabel()}`;
  ui.who.hidden = false;
  ui.signOut.hidden = false;
  await load();
}

start().catch(showError);
