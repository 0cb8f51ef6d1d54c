// The Content-Security-Policy of the dashboard's pages. Pages render record data from users'
// datasets: the policy keeps any markup in it inert even if it ever reached the DOM unescaped. Scripts
// run only with the per-request nonce proxy.ts generates (Next.js puts it on its own scripts and the
// root layout on the theme script); 'strict-dynamic' lets those load the app's chunks. Styles keep
// 'unsafe-inline': server-rendered style attributes (React style props, chart sizes) cannot carry a
// nonce, and a style cannot run code. Dev mode's refresh runtime needs eval.

/** A fresh nonce for one response. */
export function createNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

export function pageContentSecurityPolicy(nonce: string, dev = process.env.NODE_ENV === "development"): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** API answers are data, never documents to run: nothing may load from them. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";
