// The standalone worker (scripts/worker.ts, run as is) with the chaos harness's own flows registered
// first (./chaos-flows.ts): what WorkerFleet spawns for a scenario whose batch runs one of them.
import { registerChaosFlows } from "./chaos-flows";

registerChaosFlows();
await import("../../scripts/worker");
