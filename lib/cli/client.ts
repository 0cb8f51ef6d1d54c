// The CLI's HTTP client: base URL and token from flags or env over the client core the dashboard uses
// too (../client/http: requests and the API's error body as ApiError). Relative imports only: it runs
// under tsx from any directory.

import { ApiError, send } from "../client/http";

export { ApiError };

export interface ClientOptions {
  url: string;
  token?: string;
}

export class Client {
  constructor(private readonly options: ClientOptions) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Accept: "application/json", ...(this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}), ...extra };
  }

  url(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
    const u = new URL(path, this.options.url.endsWith("/") ? this.options.url : `${this.options.url}/`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Sends a request; non-2xx becomes ApiError with the server's code and message. */
  async raw(method: string, path: string, init: { query?: Record<string, string | number | boolean | undefined>; body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Response> {
    return send(
      this.url(path, init.query),
      {
        method,
        headers: this.headers(init.headers),
        body: init.body,
        // a streamed upload needs half-duplex
        ...(init.body && typeof init.body === "object" && "getReader" in init.body ? { duplex: "half" } : {}),
      } as RequestInit,
      (cause) => `cannot reach ${this.options.url} (${cause}); is the app running? Set --url or BATCHBOARD_URL`,
    );
  }

  async json<T>(method: string, path: string, init: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.raw(method, path, {
      query: init.query,
      headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}
