import Link from "next/link";

export default function DatasetNotFound() {
  return (
    <section className="empty-state" role="status">
      <h1>Dataset not found</h1>
      <p>
        No dataset has this id or name. <Link href="/datasets">Back to datasets</Link>
      </p>
    </section>
  );
}
