import type { Metadata } from "next";
import { openApiDocument } from "@/lib/api/openapi";

export const metadata: Metadata = { title: "API reference" };

type Json = Record<string, unknown>;

const METHOD_ORDER = ["get", "post", "delete"];

// /docs – the REST API reference, rendered on the server from the same OpenAPI document as /api/openapi.json
export default function DocsPage() {
  const doc = openApiDocument() as { info: { description: string }; paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .sort(([a], [b]) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b))
      .map(([method, op]) => ({ path, method, op })),
  );
  return (
    <div className="docs">
      <h1>API reference</h1>
      <p>{doc.info.description}</p>
      <p>
        Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Send <code>Authorization: Bearer &lt;api key&gt;</code>; the CLI is{" "}
        <code>npx batchboard --help</code>.
      </p>
      <nav aria-label="Endpoints">
        <ul>
          {operations.map(({ path, method, op }) => (
            <li key={`${method} ${path}`}>
              <a href={`#${op.operationId as string}`}>
                <code>{`${method.toUpperCase()} ${path}`}</code>
              </a>{" "}
              – {op.summary as string}
            </li>
          ))}
        </ul>
      </nav>
      {operations.map(({ path, method, op }) => {
        const params = (op.parameters as Json[]) ?? [];
        const body = op.requestBody as { content: Record<string, { schema: Json }> } | undefined;
        const responses = op.responses as Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
        return (
          <section key={`${method} ${path}`} id={op.operationId as string}>
            <h2>
              <code>{`${method.toUpperCase()} ${path}`}</code>
            </h2>
            <p>
              {op.summary as string} <small>(scope: {op["x-scope"] as string})</small>
            </p>
            {params.length > 0 && (
              <table>
                <thead>
                  <tr>
                    <th>parameter</th>
                    <th>in</th>
                    <th>schema</th>
                    <th>description</th>
                  </tr>
                </thead>
                <tbody>
                  {params.map((p) => (
                    <tr key={`${p.in as string}:${p.name as string}`}>
                      <td>
                        <code>{p.name as string}</code>
                        {p.required ? " *" : ""}
                      </td>
                      <td>{p.in as string}</td>
                      <td>
                        <code>{JSON.stringify(p.schema)}</code>
                      </td>
                      <td>{(p.description as string) ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {body &&
              Object.entries(body.content).map(([type, c]) => (
                <details key={type}>
                  <summary>request body ({type})</summary>
                  <pre>{JSON.stringify(c.schema, null, 2)}</pre>
                </details>
              ))}
            {Object.entries(responses).map(([status, r]) => (
              <details key={status}>
                <summary>
                  {status}: {r.description}
                </summary>
                {r.content && Object.entries(r.content).map(([type, c]) => <pre key={type}>{`${type}\n${JSON.stringify(c.schema, null, 2)}`}</pre>)}
              </details>
            ))}
          </section>
        );
      })}
      <h2>Schemas</h2>
      {Object.entries(doc.components.schemas).map(([name, schema]) => (
        <details key={name} id={`schema-${name}`}>
          <summary>{name}</summary>
          <pre>{JSON.stringify(schema, null, 2)}</pre>
        </details>
      ))}
    </div>
  );
}
