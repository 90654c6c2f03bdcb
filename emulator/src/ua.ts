/**
 * Just enough User-Agent parsing to give dev sign-ins a believable `latest_activity`
 * (Clerk derives these fields from the sign-in request; the emulator does the same, roughly).
 */
import type { DeviceInfo } from "./seed";

function deviceType(ua: string): { device_type?: string; is_mobile: boolean } {
  if (/iPhone/.test(ua)) return { device_type: "iPhone", is_mobile: true };
  if (/iPad/.test(ua)) return { device_type: "iPad", is_mobile: true };
  if (/Android/.test(ua)) return { device_type: "Android", is_mobile: /Mobile/.test(ua) };
  if (/Macintosh|Mac OS X/.test(ua)) return { device_type: "Macintosh", is_mobile: false };
  if (/Windows/.test(ua)) return { device_type: "Windows", is_mobile: false };
  if (/Linux|X11/.test(ua)) return { device_type: "Linux", is_mobile: false };
  return { is_mobile: false };
}

function browser(ua: string): { browser_name?: string; browser_version?: string } {
  const rules: [string, RegExp][] = [
    ["Edge", /Edg(?:e|A|iOS)?\/([\d.]+)/],
    ["Opera", /OPR\/([\d.]+)/],
    ["Firefox", /(?:Firefox|FxiOS)\/([\d.]+)/],
    ["Chrome", /(?:Chrome|CriOS)\/([\d.]+)/],
    ["Safari", /Version\/([\d.]+).*Safari/],
  ];
  for (const [name, re] of rules) {
    const m = re.exec(ua);
    if (m) return { browser_name: name, browser_version: m[1] };
  }
  // Non-browser clients (SDKs, curl): report the product token, e.g. "@clerk/backend" "3.25.0".
  const product = /^([^\s/]+)\/([^\s]+)/.exec(ua);
  if (product) return { browser_name: product[1], browser_version: product[2] };
  return {};
}

/** Device fields of a session activity, from a User-Agent string. */
export function deviceFromUserAgent(ua: string): DeviceInfo {
  return { ...deviceType(ua), ...browser(ua) };
}

/** True when the string looks like a web browser's User-Agent (so it is worth describing). */
export function isBrowserUserAgent(ua: string): boolean {
  return /Mozilla\/5\.0/.test(ua);
}
