import Link from "next/link";

export default function NotFound() {
  return (
    <section className="empty-state" role="status">
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link href="/batches">Go to batches</Link>
      </p>
    </section>
  );
}
