// The REST API, as the console calls it: the bearer token from sessionStorage, errors in the API's words.

const TOKEN_KEY = "livestreamd.token";

/** The API token for this tab (sessionStorage: gone with the tab, never in a URL). */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || "",
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A failed call: the HTTP status, the API's `code` and a sentence for people. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The console is served at <prefix>/console/; the API lives at <prefix>/.
const base = new URL("../", document.baseURI);

/** Calls the API; resolves to the parsed JSON answer, rejects with an APIError. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(new URL(path.replace(/^\//, ""), base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new APIError(0, "unreachable", `The service could not be reached (${error.message}).`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const message = json && typeof json.message === "string" ? json.message : `HTTP ${response.status}`;
    if (response.status === 401) {
      throw new APIError(401, "unauthorized", `The API token was refused: ${message}. Enter a valid token above.`);
    }
    throw new APIError(response.status, (json && json.code) || `http_${response.status}`, message);
  }
  return json;
}
