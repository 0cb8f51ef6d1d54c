// The CLI's HTTP client: base URL and token from flags or env, the API's error body turned into one
// readable line. Self-contained (relative imports only): it runs under tsx from any directory.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

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
    let res: Response;
    try {
      res = await fetch(this.url(path, init.query), {
        method,
        headers: this.headers(init.headers),
        body: init.body,
        // a streamed upload needs half-duplex
        ...(init.body && typeof init.body === "object" && "getReader" in init.body ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new ApiError(0, "unreachable", `cannot reach ${this.options.url} (${cause ?? (err as Error).message}); is the app running? Set --url or BATCHBOARD_URL`);
    }
    if (!res.ok) {
      const text = await res.text();
      try {
        const body = JSON.parse(text) as { error?: { code: string; message: string; details?: { path?: string; message: string }[] } };
        if (body.error) throw new ApiError(res.status, body.error.code, body.error.message, body.error.details ?? []);
      } catch (err) {
        if (err instanceof ApiError) throw err;
      }
      throw new ApiError(res.status, `http_${res.status}`, text.slice(0, 300) || res.statusText);
    }
    return res;
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
