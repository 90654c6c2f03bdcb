/**
 * Where the page's session token comes from.
 * - Locally (`npm start`), the Clerk emulator's dev endpoints sign a seeded user in, as
 *   clerk-js would, and mint fresh 60-second tokens for that session.
 * - Deployed, clerk-js is loaded from the instance's Frontend API and asked for the token.
 *   That path needs a real Clerk instance, so it is deliberately small (docs/deploying.md).
 */
export type PageConfig =
  | { mode: "emulator"; emulator_url: string }
  | { mode: "clerk"; publishable_key: string; frontend_api: string };

export interface Auth {
  token(): Promise<string | null>;
  sessionId(): string | null;
  userLabel(): string;
  signOut(): Promise<void>;
  /** Called when there is no (longer a) session: show a way to sign in. */
  signedOut(): Promise<void>;
}

export interface EmulatorUser {
  id: string;
  username: string;
  first_name: string;
  last_name: string;
  email_address: string;
}

export interface EmulatorAuth extends Auth {
  users(): Promise<EmulatorUser[]>;
  signIn(username: string): Promise<void>;
  onSignedOut: () => Promise<void>;
}

type Stored = { session_id: string; user_id: string; username: string; token: string; at: number };
const STORAGE_KEY = "devices.emulator-session";
/** Tokens live 60 s; mint a new one a little before that. */
const TOKEN_REUSE_MS = 40_000;

async function emulatorJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json().catch(() => null)) as { errors?: Array<{ long_message?: string }> } | null;
  if (!response.ok) {
    throw new Error(`Clerk emulator: ${body?.errors?.[0]?.long_message ?? `HTTP ${response.status}`}`);
  }
  return body as T;
}

export function emulatorAuth(emulatorUrl: string): EmulatorAuth {
  const load = (): Stored | null => {
    try {
      return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null") as Stored | null;
    } catch {
      return null;
    }
  };
  const save = (value: Stored | null) =>
    value ? sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value)) : sessionStorage.removeItem(STORAGE_KEY);

  const auth: EmulatorAuth = {
    onSignedOut: async () => {},
    async users() {
      const { users } = await emulatorJson<{ users: EmulatorUser[] }>(`${emulatorUrl}/__dev/users`);
      return users;
    },
    async signIn(username) {
      const result = await emulatorJson<{ session_id: string; user_id: string; token: string }>(
        `${emulatorUrl}/__dev/sign_in`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          // The emulator records this browser's User-Agent as the device; the azp is this page's origin.
          body: JSON.stringify({ username, origin: location.origin, user_agent: navigator.userAgent }),
        },
      );
      save({ session_id: result.session_id, user_id: result.user_id, username, token: result.token, at: Date.now() });
    },
    async token() {
      const stored = load();
      if (!stored) return null;
      if (Date.now() - stored.at < TOKEN_REUSE_MS) return stored.token;
      try {
        const { jwt } = await emulatorJson<{ jwt: string }>(
          `${emulatorUrl}/__dev/sessions/${stored.session_id}/token`,
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          },
        );
        save({ ...stored, token: jwt, at: Date.now() });
        return jwt;
      } catch {
        // The session is over (revoked from elsewhere): the gateway will say so with a 401.
        return stored.token;
      }
    },
    sessionId: () => load()?.session_id ?? null,
    userLabel: () => load()?.username ?? "",
    async signOut() {
      save(null);
      await auth.onSignedOut();
    },
    async signedOut() {
      save(null);
      await auth.onSignedOut();
    },
  };
  return auth;
}

/** The few members of clerk-js the page uses (https://clerk.com/docs/references/javascript/clerk). */
interface ClerkJs {
  load(): Promise<void>;
  session: { id: string; getToken(): Promise<string | null> } | null | undefined;
  user: { primaryEmailAddress?: { emailAddress: string } | null; username?: string | null } | null | undefined;
  mountSignIn(node: HTMLDivElement, props?: Record<string, unknown>): void;
  addListener(listener: (resources: { session?: unknown }) => void): void;
  signOut(): Promise<void>;
}

export async function clerkAuth(
  config: Extract<PageConfig, { mode: "clerk" }>,
  signInNode: HTMLDivElement,
  onSignedIn: () => Promise<void>,
): Promise<Auth> {
  await new Promise<void>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${config.frontend_api}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
    script.async = true;
    script.crossOrigin = "anonymous";
    script.dataset.clerkPublishableKey = config.publishable_key;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error("Clerk's sign-in could not be loaded."));
    document.head.append(script);
  });
  const clerk = (window as unknown as { Clerk: ClerkJs }).Clerk;
  await clerk.load();
  let wasSignedIn = Boolean(clerk.session);
  clerk.addListener(({ session }) => {
    if (session && !wasSignedIn) {
      signInNode.replaceChildren();
      void onSignedIn();
    }
    wasSignedIn = Boolean(session);
  });
  return {
    token: async () => (clerk.session ? clerk.session.getToken() : null),
    sessionId: () => clerk.session?.id ?? null,
    userLabel: () => clerk.user?.username ?? clerk.user?.primaryEmailAddress?.emailAddress ?? "",
    signOut: () => clerk.signOut(),
    async signedOut() {
      clerk.mountSignIn(signInNode, { forceRedirectUrl: location.href });
    },
  };
}
