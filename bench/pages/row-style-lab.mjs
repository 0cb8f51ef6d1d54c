// What a jobs-table scroll step costs the browser, without React and without a server: the app's
// built CSS and rows shaped like the table's, in the bench's Chromium; each step appends 12 rows,
// drops the 12 oldest (48 kept) and forces style and layout, timed in the page (40 steps, median
// and p90). Variants: rows absolutely placed by an inline `top` each (the jobs table until bf0c84c), the
// same rows without their `top`, and rows in flow after a padding on their box (the table now), plus
// a few ablations (no checkbox, no ARIA attributes, no `contain`).
//
//   node bench/pages/row-style-lab.mjs [.next]     # the dist dir whose built CSS is used
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright";

const dist = process.argv[2] ?? ".next";
const chunks = path.join(dist, "static", "chunks");
const css = readdirSync(chunks)
  .filter((f) => f.endsWith(".css"))
  .map((f) => readFileSync(path.join(chunks, f), "utf8"))
  .join("\n");

const row = (i, top) =>
  `<tr role="row"${top ? ` style="top:${i * 36}px"` : ""} data-record-id="rec-${i}" data-index="${i}" aria-rowindex="${i + 2}" class="clickable" tabindex="0" aria-selected="false">` +
  `<td role="cell" class="cell-check"><input type="checkbox" aria-label="Select job rec-${i}"></td>` +
  `<td role="cell" class="num muted cell-ordinal">${i + 1}</td>` +
  `<td role="cell" class="mono cell-record" title="rec-${i}">rec-${String(i).padStart(7, "0")}</td>` +
  `<td role="cell"><span class="badge status-succeeded">succeeded</span></td>` +
  `<td role="cell" class="num">1</td><td role="cell" class="num">50 ms</td><td role="cell" class="num">$0.00020</td>` +
  `<td role="cell" class="cell-preview mono small" title="x">{"label":"positive","score":0.${i % 1000}}</td>` +
  `<td role="cell">3 Dec, 14:0${i % 10}:00</td></tr>`;

const ABS = ".jobs-table tbody{position:relative}.jobs-table tbody tr{position:absolute;left:0;right:0}";
const variants = {
  "absolute, inline top per row": { css: ABS, mk: (i) => row(i, true), flow: false },
  "absolute, no top (rows overlap)": { css: ABS, mk: (i) => row(i, false), flow: false },
  "absolute, top, no contain": { css: ABS + ".jobs-table tbody tr{contain:none}", mk: (i) => row(i, true), flow: false },
  "absolute, top, no checkbox": { css: ABS, mk: (i) => row(i, true).replace(/<input[^>]*>/, ""), flow: false },
  "in flow after a padding": { css: ".jobs-table tbody{position:static}.jobs-table tbody tr{position:static}", mk: (i) => row(i, false), flow: true },
};

const browser = await chromium.launch({ executablePath: process.env.BENCH_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  for (let round = 1; round <= 2; round++) {
    for (const [name, v] of Object.entries(variants)) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.setContent(
        `<!doctype html><html><head><style>${css}${v.css}</style></head><body><div class="shell"><main class="content"><section class="jobs">` +
          `<div class="table-wrap jobs-scroll"><table class="jobs-table"><thead><tr><th>#</th></tr></thead><tbody id="tb" style="height:360000px"></tbody></table></div>` +
          `</section></main></div></body></html>`,
      );
      const r = await page.evaluate(
        ({ rows, flow }) => {
          const tb = document.getElementById("tb");
          const tpl = document.createElement("template");
          const times = [];
          let dropped = 0;
          for (let k = 0; k < 40; k++) {
            tpl.innerHTML = rows.slice(k * 12, k * 12 + 12).join("");
            const t0 = performance.now();
            tb.append(tpl.content);
            while (tb.children.length > 48) {
              tb.firstElementChild.remove();
              dropped++;
            }
            if (flow) tb.style.paddingTop = `${dropped * 36}px`;
            void document.body.offsetTop; // style and layout now
            times.push(performance.now() - t0);
          }
          times.sort((a, b) => a - b);
          return { median: times[20], p90: times[36] };
        },
        { rows: Array.from({ length: 480 }, (_, i) => v.mk(i)), flow: v.flow },
      );
      console.log(`round ${round} ${name}: median ${r.median.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms per step`);
      await page.close();
    }
  }
} finally {
  await browser.close();
}
