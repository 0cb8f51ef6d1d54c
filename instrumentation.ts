// Next.js calls register() once when a server process starts. In the Node.js runtime we make sure
// the database is migrated and start the in-process worker (the single-machine default).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startServerSideServices } = await import("@/lib/server-start");
  await startServerSideServices();
}
