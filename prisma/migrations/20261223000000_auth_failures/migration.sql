-- Failed authentication per client address (wrong API keys, sign-ins, one-time links), counted in a
-- fixed window: past the limit the address is answered 429 until the window ends. Kept in the
-- database so every server process sharing it counts the same failures.
CREATE TABLE "auth_failures" (
    "address" TEXT NOT NULL,
    "window_started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "auth_failures_pkey" PRIMARY KEY ("address")
);
