// The CLI's API client: the shared one (../client/api.ts, which the dashboard uses too) over a
// transport with a base URL and a token from flags or env. Relative imports only: it runs under tsx
// from any directory.
import { createApi, type Api } from "../client/api";
import { send } from "../client/http";

export { ApiError } from "../client/http";

export interface ClientOptions {
  url: string;
  token?: string;
}

/** The API at `url`: its paths resolve under the URL's own path; the token goes as a Bearer token. */
export function connect(options: ClientOptions): Api {
  const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
  return createApi((apiPath, init) =>
    send(
      new URL(apiPath.replace(/^\//, ""), base).toString(),
      { ...init, headers: { ...(init.headers as Record<string, string>), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) } },
      (cause) => `cannot reach ${options.url} (${cause}); is the app running? Set --url or BATCHBOARD_URL`,
    ),
  );
}
