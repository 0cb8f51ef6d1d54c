import { unknownRoute } from "@/lib/api/not-found";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// ANY /v1/[...slug] – an unknown path: the one 404 body (lib/api/not-found.ts)
export const GET = unknownRoute;
export const POST = unknownRoute;
export const PUT = unknownRoute;
export const PATCH = unknownRoute;
export const DELETE = unknownRoute;
