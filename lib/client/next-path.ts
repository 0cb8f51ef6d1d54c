// Where to send the browser after sign-in: `next` resolved against our origin, kept only when it stays
// there. Checking the string instead (starts with "/", not "//") let `/\host` and `/<TAB>/host` out:
// the URL parser reads both as `//host`.
export const DEFAULT_AFTER_SIGN_IN = "/batches";

/** The absolute same-origin URL `next` names, else `fallback` on `origin`. */
export function sameOriginNext(next: string | null | undefined, origin: string, fallback = DEFAULT_AFTER_SIGN_IN): string {
  const home = new URL(fallback, origin);
  if (!next) return home.href;
  try {
    const url = new URL(next, home);
    return url.origin === home.origin ? url.href : home.href;
  } catch {
    return home.href;
  }
}
