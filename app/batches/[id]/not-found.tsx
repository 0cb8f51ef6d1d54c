import Link from "next/link";

export default function BatchNotFound() {
  return (
    <section className="empty-state" role="status">
      <h1>Batch not found</h1>
      <p>
        No batch has this id. It may have been deleted. <Link href="/batches">Back to all batches</Link>
      </p>
    </section>
  );
}
