#!/usr/bin/env node
// Generates data/demo/reviews.jsonl: 3,000 short reviews written from the templates below, so the
// demo dataset is licence-clean and reproducible. Deterministic (seeded PRNG): re-running it
// rewrites the same file. Usage: node data/demo/generate.mjs [count]
import { writeFileSync } from "node:fs";
import path from "node:path";

const COUNT = Number(process.argv[2] ?? 3000);

// mulberry32: a tiny seeded PRNG, so the output never changes between runs or Node versions
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(20240611);
const pick = (list) => list[Math.floor(rand() * list.length)];

const products = {
  product: [
    "Aurora wireless earbuds", "Trailblazer hiking boots", "Nimbus robot vacuum", "Cascade water bottle",
    "Pixel Pro phone case", "Ember cast iron skillet", "Drift office chair", "Lumen desk lamp",
    "Summit backpack", "Breeze standing fan", "Harbor rain jacket", "Echo smart speaker",
    "Quill fountain pen", "Atlas travel adapter", "Velvet throw blanket", "Orbit fitness tracker",
  ],
  app: [
    "Tally budgeting app", "Wayfinder maps app", "Sprout plant care app", "Cadence running app",
    "Inkwell notes app", "Lingo language app", "Pantry recipe planner", "Focus timer app", "Skyline weather app",
    "Ledger invoicing app", "Snapshot photo editor", "Commute transit app",
  ],
  restaurant: [
    "Luigi's Trattoria", "Green Bowl", "Saffron House", "Harbor Fish Shack", "El Sol taqueria",
    "Bento Corner", "Copper Kettle", "Noodle Lab", "Smoke & Oak BBQ", "Petit Café",
  ],
};

const aspects = {
  product: ["battery life", "build quality", "price", "packaging", "comfort", "design", "sound", "size", "instructions", "durability"],
  app: ["interface", "sync", "notifications", "onboarding", "speed", "widgets", "subscription price", "offline mode", "search", "support team"],
  restaurant: ["service", "portions", "pasta", "dessert", "atmosphere", "wait time", "staff", "menu", "coffee", "prices"],
};

const positive = {
  openers: ["Absolutely love the {p}.", "Really happy with the {p}.", "The {p} is fantastic.", "Great experience with the {p}.", "Five stars for the {p}.", "Impressed by the {p}."],
  middles: [
    "The {a} is excellent and everything works perfectly.", "The {a} is superb, better than I expected.",
    "Loved the {a}; it feels thoughtful and well made.", "The {a} is wonderful and the whole thing is a joy to use.",
    "Brilliant {a}, and it has been reliable every day.", "The {a} was amazing and the team was friendly and helpful.",
  ],
  closers: ["Highly recommend.", "Would buy again.", "Worth every penny.", "My new favourite.", "Can't fault it.", "Already told my friends."],
};
const negative = {
  openers: ["Really disappointed with the {p}.", "The {p} was a letdown.", "Would not recommend the {p}.", "Frustrating experience with the {p}.", "Regret choosing the {p}.", "The {p} is awful."],
  middles: [
    "The {a} is terrible and it broke within a week.", "The {a} is poor and support ignored my complaint.",
    "Awful {a}; it crashes and loses my data.", "The {a} was bad and the staff were rude.",
    "The {a} is useless and clearly cheap.", "Horrible {a}, slow and annoying every single time.",
  ],
  closers: ["Asked for a refund.", "Waste of money.", "Never again.", "Avoid.", "Very unhappy.", "Returning it tomorrow."],
};
const neutral = {
  openers: ["The {p} is okay.", "Mixed feelings about the {p}.", "The {p} does the job.", "Used the {p} for a month.", "Average experience with the {p}.", "The {p} is fine."],
  middles: [
    "The {a} is good but the {b} could be better.", "The {a} is nice, though the {b} is a bit disappointing.",
    "The {a} works; the {b} is nothing special.", "Decent {a}, but the {b} was a problem once.",
    "The {a} is as described and the {b} is acceptable.", "I like the {a} but I dislike the {b}.",
  ],
  closers: ["Might buy again on sale.", "It's fine for the price.", "Not bad, not great.", "Three stars feels right.", "Could go either way.", "Will see how it holds up."],
};

function fill(template, p, a, b) {
  return template.replaceAll("{p}", p).replaceAll("{a}", a).replaceAll("{b}", b);
}

const lines = [];
for (let i = 1; i <= COUNT; i++) {
  const category = pick(["product", "product", "app", "restaurant"]);
  const product = pick(products[category]);
  const a = pick(aspects[category]);
  let b = pick(aspects[category]);
  if (b === a) b = aspects[category][(aspects[category].indexOf(a) + 1) % aspects[category].length];
  const roll = rand();
  const [tone, rating] =
    roll < 0.45 ? [positive, rand() < 0.6 ? 5 : 4] : roll < 0.75 ? [negative, rand() < 0.6 ? 1 : 2] : [neutral, 3];
  const parts = [fill(pick(tone.openers), product, a, b), fill(pick(tone.middles), product, a, b)];
  if (rand() < 0.7) parts.push(fill(pick(tone.closers), product, a, b));
  const id = `rev-${String(i).padStart(4, "0")}`;
  lines.push(JSON.stringify({ id, text: parts.join(" "), product, category, rating }));
}

const out = path.join(import.meta.dirname, "reviews.jsonl");
writeFileSync(out, lines.join("\n") + "\n");
console.log(`wrote ${lines.length} reviews to ${out}`);
