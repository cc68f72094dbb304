/** Sandbox-wide settings the control API may change while it runs. */
export interface Settings {
  /** Sent as `scale-callback-auth` on every callback, as Scale sends the account's Live Callback Auth Key. */
  callbackAuthKey: string;
  /** Tasks of `live_…` keys complete by themselves after this delay; null = only through the control API. */
  liveCompletionDelayMs: number | null;
  /** The origin clients reach the sandbox at (`http://127.0.0.1:4010`), for the URLs it hands out. */
  publicUrl: string;
}

/** The fixed development value of the callback auth key when none is configured. */
export const DEFAULT_CALLBACK_AUTH_KEY = "sandbox-callback-auth-key";
