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

/** Sends one request to the API with the token; resolves to the Response, rejects when unreachable. */
async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(new URL(path.replace(/^\//, ""), base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new APIError(0, "unreachable", `The service could not be reached (${error.message}).`);
  }
}

/** The APIError of a failed answer, in the API's words. */
async function failure(response) {
  let json = null;
  try {
    json = JSON.parse(await response.text());
  } catch {
    json = null;
  }
  const message = json && typeof json.message === "string" ? json.message : `HTTP ${response.status}`;
  if (response.status === 401) {
    return new APIError(401, "unauthorized", `The API token was refused: ${message}. Enter a valid token above.`);
  }
  return new APIError(response.status, (json && json.code) || `http_${response.status}`, message);
}

/** Calls the API; resolves to the parsed JSON answer, rejects with an APIError. */
export async function api(method, path, body) {
  const response = await send(method, path, body, "application/json");
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** GETs a picture from the API (it needs the token, so no <img src> can): a Blob, or null on 404. */
export async function apiPicture(path) {
  const response = await send("GET", path, undefined, "image/*");
  if (response.status === 404) return null;
  if (!response.ok) throw await failure(response);
  return response.blob();
}
