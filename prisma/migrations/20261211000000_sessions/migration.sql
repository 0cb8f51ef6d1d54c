-- Dashboard sessions kept on the server, so signing out, revoking the key, or replacing
-- BATCHBOARD_ADMIN_TOKEN ends them (a replayed cookie is refused). The cookie holds a random token;
-- `id` is its SHA-256. A session is of an API key (key_id) or of the admin token (admin_token_hash:
-- the SHA-256 of the token signed in with). Cookies of the earlier signed format stop working: their
-- holders sign in again.
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "key_id" TEXT,
    "admin_token_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "sessions_key_id_idx" ON "sessions"("key_id");
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

ALTER TABLE "sessions" ADD CONSTRAINT "sessions_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- the signing secret of the earlier cookies
DELETE FROM "settings" WHERE "key" = 'session_secret';
