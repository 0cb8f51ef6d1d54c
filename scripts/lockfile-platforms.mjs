// Some npm registry mirrors lack the other platforms' builds of optional native packages (Next.js's
// swc binaries, unrs-resolver's bindings). `npm install` then leaves them out of package-lock.json and
// `npm ci` refuses the lock. This adds the missing entries with their os/cpu/libc, which is what npm
// itself records: they are installed only on their own platform, from whatever registry it uses.
// Run after `npm install <pkg>`: node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const pkgs = lock.packages;
const present = new Set(Object.keys(pkgs).map((k) => k.replace(/^.*node_modules\//, "")));
const PLATFORM = /(android|darwin|freebsd|linux|openharmony|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(gnueabihf|musleabihf|eabi|gnu|musl|msvc))?$/;

let added = 0;
for (const entry of Object.values(pkgs)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const m = PLATFORM.exec(name);
    if (present.has(name) || !m || !/^\d/.test(spec)) continue;
    const [, os, cpu, abi] = m;
    const libc = abi === "gnu" || abi === "gnueabihf" ? ["glibc"] : abi === "musl" || abi === "musleabihf" ? ["musl"] : undefined;
    pkgs[`node_modules/${name}`] = { version: spec, os: [os], cpu: [cpu], ...(libc ? { libc } : {}), optional: true };
    present.add(name);
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-platforms: added ${added} entr${added === 1 ? "y" : "ies"}`);
