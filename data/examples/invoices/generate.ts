// Fake invoices as PDFs for the example: made-up companies, line items and totals, the same for the same
// number every time (a small seeded generator), drawn with pdfkit's built-in Helvetica.
import PDFDocument from "pdfkit";

const VENDORS = ["Northwind Widgets Ltd", "Blue Heron Supplies", "Copperleaf Design Co", "Quarry Lane Bakery", "Tidewater Print House", "Maple & Slate Builders"];
const CUSTOMERS = ["Riverside Dental", "Oak Street Library", "Harbor Cycling Club", "Greenfield School", "Summit Legal LLP"];
const ITEMS: [string, number][] = [
  ["Consulting hour", 95],
  ["Printer paper (box)", 24.5],
  ["Oak shelf", 140],
  ["Sourdough loaf", 6.25],
  ["Logo design", 480],
  ["Delivery", 15],
  ["Cement bag 25 kg", 11.9],
  ["Business cards (500)", 39],
];
const CURRENCIES = ["EUR", "USD", "GBP"];

export interface InvoiceLine {
  description: string;
  quantity: number;
  unit_price: number;
  amount: number;
}

export interface Invoice {
  vendor: string;
  customer: string;
  invoice_number: string;
  date: string;
  currency: string;
  line_items: InvoiceLine[];
  total: number;
}

// mulberry32: a few lines, and the same invoices on every machine
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cents = (n: number) => Math.round(n * 100) / 100;

/** Invoice number `n` (1-based). */
export function fakeInvoice(n: number): Invoice {
  const rnd = random(n * 7919);
  const pick = <T,>(list: T[]) => list[Math.floor(rnd() * list.length)]!;
  const lines = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
    const [description, price] = pick(ITEMS);
    const quantity = 1 + Math.floor(rnd() * 9);
    return { description, quantity, unit_price: price, amount: cents(quantity * price) };
  });
  const day = new Date(Date.UTC(2026, 0, 1) + Math.floor(rnd() * 330) * 86_400_000);
  return {
    vendor: pick(VENDORS),
    customer: pick(CUSTOMERS),
    invoice_number: `INV-2026-${String(n).padStart(4, "0")}`,
    date: day.toISOString().slice(0, 10),
    currency: pick(CURRENCIES),
    line_items: lines,
    total: cents(lines.reduce((s, l) => s + l.amount, 0)),
  };
}

/** The invoice as a one-page PDF. */
export function invoicePdf(inv: Invoice): Promise<Buffer> {
  // a fixed creation date keeps the bytes the same for the same invoice
  const doc = new PDFDocument({ size: "A4", margin: 56, info: { Title: inv.invoice_number, CreationDate: new Date(Date.UTC(2026, 0, 1)) } });
  const parts: Buffer[] = [];
  doc.on("data", (c: Buffer) => parts.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(parts)));
    doc.on("error", reject);
  });
  const money = (n: number) => `${n.toFixed(2)} ${inv.currency}`;
  doc.font("Helvetica-Bold").fontSize(20).text(inv.vendor);
  doc.font("Helvetica").fontSize(10).text("12 Example Street, Sampletown");
  doc.moveDown(2).fontSize(16).font("Helvetica-Bold").text("INVOICE");
  doc.font("Helvetica").fontSize(11).text(`Invoice number: ${inv.invoice_number}`).text(`Date: ${inv.date}`).text(`Bill to: ${inv.customer}`);
  doc.moveDown(1.5).font("Helvetica-Bold");
  const row = (cells: string[]) => {
    const y = doc.y;
    [56, 300, 370, 460].forEach((x, i) => doc.text(cells[i]!, x, y, { width: i === 0 ? 240 : 85, align: i === 0 ? "left" : "right" }));
    doc.moveDown(0.4);
  };
  row(["Description", "Qty", "Unit price", "Amount"]);
  doc.font("Helvetica");
  for (const l of inv.line_items) row([l.description, String(l.quantity), money(l.unit_price), money(l.amount)]);
  doc.moveDown(1).font("Helvetica-Bold");
  row(["", "", "Total", money(inv.total)]);
  doc.end();
  return done;
}
