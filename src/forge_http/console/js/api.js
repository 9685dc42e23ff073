// The public API, as any client calls it. The access token lives only in this module's
// memory; the refresh token in sessionStorage, so a reload of the tab stays signed in
// while closing the tab ends it (docs/console.md says why).

const API = "/api/v1";
const REFRESH_KEY = "forge.refresh_token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

export class Api {
  constructor(onSignedOut) {
    this.access = null;
    this.onSignedOut = onSignedOut;
    this.refreshing = null;
  }

  get signedIn() {
    return this.access !== null;
  }

  async register(email, password, displayName) {
    const body = { email, password };
    if (displayName) body.display_name = displayName;
    await this.call("POST", "/auth/register", body, { anonymous: true });
    return this.signIn(email, password);
  }

  async signIn(email, password) {
    const tokens = await this.call("POST", "/auth/login", { email, password }, { anonymous: true });
    this.keep(tokens);
    return tokens;
  }

  // Resume a login from the tab's refresh token; false when there is none or it is spent.
  async resume() {
    if (!sessionStorage.getItem(REFRESH_KEY)) return false;
    try {
      await this.refresh();
      return true;
    } catch {
      this.forget(); // spent or revoked: sign in again
      return false;
    }
  }

  async signOut() {
    try {
      if (this.access) await this.call("POST", "/auth/logout");
    } finally {
      this.forget();
    }
  }

  keep(tokens) {
    this.access = tokens.access_token;
    sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  }

  forget() {
    this.access = null;
    sessionStorage.removeItem(REFRESH_KEY);
  }

  // The login is over (its refresh token spent or revoked): back to the sign-in page.
  ended() {
    this.forget();
    this.onSignedOut("Your sign-in has ended; please sign in again.");
  }

  // One refresh at a time: refresh tokens rotate, and replaying one ends the login.
  refresh() {
    if (!this.refreshing) {
      const token = sessionStorage.getItem(REFRESH_KEY);
      this.refreshing = this.call("POST", "/auth/refresh", { refresh_token: token }, { anonymous: true })
        .then((tokens) => this.keep(tokens))
        .finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  // A JSON call; a 401 refreshes the access token once and tries again.
  async call(method, path, body, options = {}) {
    const response = await this.send(method, path, body, options);
    if (response.status === 204) return null;
    return response.json();
  }

  // The raw response of a call (for downloads), after the same checks as `call`.
  async send(method, path, body, { anonymous = false, retried = false } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (!anonymous && this.access) headers.Authorization = `Bearer ${this.access}`;
    const response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && !anonymous && !retried) {
      try {
        await this.refresh();
      } catch {
        this.ended();
        throw new ApiError(401, "Your sign-in has ended; please sign in again.");
      }
      return this.send(method, path, body, { anonymous, retried: true });
    }
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
    return response;
  }

  socketUrl(chatId, since) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ token: this.access, since: String(since) });
    return `${scheme}//${location.host}${API}/chat-socket/${chatId}?${query}`;
  }
}

async function detailOf(response) {
  try {
    const body = await response.json();
    return body.detail || `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}
