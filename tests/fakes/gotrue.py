"""A fake GoTrue (Supabase Auth) as a real HTTP server on 127.0.0.1, for tests.

Written from GoTrue's wire format: ``/auth/v1/signup`` (confirmation on or off),
``/auth/v1/token?grant_type=password|refresh_token`` (refresh tokens rotate; presenting a
used one ends the whole login), ``/auth/v1/user``, ``/auth/v1/logout`` (204) and
``/auth/v1/.well-known/jwks.json`` with the ES256 key that signs access tokens (or, with
``hs256_secret``, HS256 tokens and an empty JWKS, as a legacy project). Like Supabase's
gateway it wants an ``apikey`` header on every request. Errors come in GoTrue's default
shape, in the dated one when ``X-Supabase-Api-Version: 2024-01-01`` is sent, or, with
``legacy_errors``, the older ``{"error", "error_description"}`` on ``/token``.

Knobs for tests: ``autoconfirm``, ``confirm(email)``, ``rate_limit(path, allowed)``,
``fail_next(path, *statuses)``; ``count(path)`` tells how often a path was asked.
``/rest/v1/echo`` answers what it was sent, standing in for PostgREST.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

AUTH = "/auth/v1"
JWKS = f"{AUTH}/.well-known/jwks.json"
PWNED = {"password", "password123", "qwerty123"}
Answer = tuple[int, dict[str, str], Any]


@dataclass
class FakeUser:
    id: str
    email: str
    password: str
    metadata: dict[str, Any]
    confirmed: bool
    created_at: str


@dataclass
class Refresh:
    session_id: str
    used: bool = False


@dataclass
class Knobs:
    autoconfirm: bool = True
    legacy_errors: bool = False
    access_ttl: int = 3600
    limits: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)


class FakeGoTrue:
    def __init__(self, *, hs256_secret: str | None = None) -> None:
        self.anon_key = "anon-" + secrets.token_hex(16)
        self.service_key = "service-" + secrets.token_hex(16)
        self.hs256_secret = hs256_secret
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.kid = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeGoTrue:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.url + AUTH

    def reset(self) -> None:
        with self._lock:
            self.knobs = Knobs()
            self.users: dict[str, FakeUser] = {}
            self.sessions: dict[str, str] = {}  # session id -> user id
            self.refresh_tokens: dict[str, Refresh] = {}
            self.requests: Counter[str] = Counter()
            self.seen_headers: list[dict[str, str]] = []

    # -- knobs -----------------------------------------------------------------------
    def confirm(self, email: str) -> None:
        self.users[email.lower()].confirmed = True

    def rate_limit(self, path: str, allowed: int, retry_after: int | None = None) -> None:
        self.knobs.limits[AUTH + path] = (allowed, retry_after)

    def fail_next(self, path: str, *statuses: int) -> None:
        self.knobs.failures[AUTH + path] = list(statuses)

    def count(self, path: str) -> int:
        return self.requests[AUTH + path]

    # -- tokens ----------------------------------------------------------------------
    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]}

    def claims_for(self, user: FakeUser, session_id: str) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "sub": user.id,
            "aud": "authenticated",
            "exp": now + self.knobs.access_ttl,
            "iat": now,
            "email": user.email,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {**user.metadata, "email": user.email, "sub": user.id},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": False,
        }

    def sign(self, claims: dict[str, Any]) -> str:
        if self.hs256_secret is not None:
            return jwt.encode(claims, self.hs256_secret, algorithm="HS256")
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})

    def _verify(self, token: str) -> dict[str, Any]:
        if self.hs256_secret is not None:
            key: Any = self.hs256_secret
            algorithm = "HS256"
        else:
            key, algorithm = self.private_key.public_key(), "ES256"
        return jwt.decode(
            token, key, algorithms=[algorithm], audience="authenticated", issuer=self.issuer
        )

    # -- the server ------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests[path] += 1
            self.seen_headers.append(headers)
            refused = self._gateway(path, headers)
            if refused is not None:
                return refused
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return self._error(headers, 400, "bad_json", "Could not parse request body as JSON")
            return self._route(method, path, query, headers, body)

    def _gateway(self, path: str, headers: dict[str, str]) -> Answer | None:
        key = headers.get("apikey")
        if key is None:
            hint = "No `apikey` request header or url param was found."
            return 401, {}, {"message": "No API key found in request", "hint": hint}
        if key not in (self.anon_key, self.service_key):
            hint = "Double check your Supabase `anon` or `service_role` API key."
            return 401, {}, {"message": "Invalid API key", "hint": hint}
        failures = self.knobs.failures.get(path)
        if failures:
            return failures.pop(0), {}, {"message": "An invalid response was received"}
        if path in self.knobs.limits:
            allowed, retry_after = self.knobs.limits[path]
            self.knobs.limits[path] = (allowed - 1, retry_after)
            if allowed <= 0:
                extra = {"Retry-After": str(retry_after)} if retry_after else {}
                code = (
                    "over_email_send_rate_limit" if "signup" in path else "over_request_rate_limit"
                )
                status, answer_headers, body = self._error(
                    headers, 429, code, "rate limit exceeded"
                )
                return status, {**answer_headers, **extra}, body
        return None

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        if (method, path) == ("GET", JWKS):
            keys = [] if self.hs256_secret is not None else [self.public_jwk()]
            return 200, {}, {"keys": keys}
        if (method, path) == ("POST", f"{AUTH}/signup"):
            return self._signup(headers, body)
        if (method, path) == ("POST", f"{AUTH}/token"):
            return self._token(query.get("grant_type"), headers, body)
        if (method, path) == ("GET", f"{AUTH}/user"):
            return self._user(headers)
        if (method, path) == ("POST", f"{AUTH}/logout"):
            return self._logout(headers)
        if path == "/rest/v1/echo":
            role = "anon" if headers.get("apikey") == self.anon_key else "service_role"
            auth = headers.get("authorization", "")
            return 200, {}, {"role": role, "params": query, "body": body, "authorization": auth}
        return self._error(headers, 404, "not_found", "Not found")

    def _signup(self, headers: dict[str, str], body: Any) -> Answer:
        email, password = str(body.get("email", "")).strip().lower(), str(body.get("password", ""))
        if "@" not in email:
            return self._error(headers, 400, "email_address_invalid", "Email address is invalid")
        if len(password) < 6 or password in PWNED:
            reasons = ["length"] if len(password) < 6 else ["pwned"]
            message = (
                "Password should be at least 6 characters."
                if reasons == ["length"]
                else "Password is known to be weak and easy to guess, please choose a different one"
            )
            return self._error(
                headers, 422, "weak_password", message, weak_password={"reasons": reasons}
            )
        existing = self.users.get(email)
        if existing is not None and existing.confirmed:
            if self.knobs.autoconfirm:
                return self._error(headers, 422, "user_already_exists", "User already registered")
            decoy = FakeUser(str(uuid.uuid4()), email, "", {}, False, _now())
            return 200, {}, {**self._user_json(decoy), "identities": []}
        metadata = body.get("data") if isinstance(body.get("data"), dict) else {}
        user = FakeUser(
            str(uuid.uuid4()), email, password, metadata, self.knobs.autoconfirm, _now()
        )
        self.users[email] = user
        if self.knobs.autoconfirm:
            return 200, {}, self._new_session(user)
        return 200, {}, {**self._user_json(user), "confirmation_sent_at": _now()}

    def _token(self, grant: str | None, headers: dict[str, str], body: Any) -> Answer:
        if grant == "password":
            user = self.users.get(str(body.get("email", "")).strip().lower())
            if user is None or user.password != body.get("password"):
                return self._token_error(
                    headers, "invalid_credentials", "Invalid login credentials"
                )
            if not user.confirmed:
                return self._error(headers, 400, "email_not_confirmed", "Email not confirmed")
            return 200, {}, self._new_session(user)
        if grant == "refresh_token":
            token = str(body.get("refresh_token", ""))
            record = self.refresh_tokens.get(token)
            if record is None:
                return self._token_error(
                    headers,
                    "refresh_token_not_found",
                    "Invalid Refresh Token: Refresh Token Not Found",
                )
            if record.used:  # reuse: the login is compromised, end it
                self._end_session(record.session_id)
                return self._token_error(
                    headers, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
                )
            record.used = True
            user_id = self.sessions[record.session_id]
            user = next(u for u in self.users.values() if u.id == user_id)
            return 200, {}, self._session_json(user, record.session_id)
        return self._error(headers, 400, "validation_failed", "unsupported_grant_type")

    def _bearer(self, headers: dict[str, str]) -> tuple[dict[str, Any] | None, Answer | None]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            error = self._error(
                headers, 401, "no_authorization", "This endpoint requires a Bearer token"
            )
            return None, error
        try:
            claims = self._verify(token)
        except jwt.InvalidTokenError as exc:
            return None, self._error(headers, 403, "bad_jwt", f"invalid JWT: {exc}")
        if claims.get("session_id") not in self.sessions:
            message = "Session from session_id claim in JWT does not exist"
            return None, self._error(headers, 403, "session_not_found", message)
        return claims, None

    def _user(self, headers: dict[str, str]) -> Answer:
        claims, error = self._bearer(headers)
        if claims is None:
            assert error is not None
            return error
        user = next(u for u in self.users.values() if u.id == claims["sub"])
        return 200, {}, self._user_json(user)

    def _logout(self, headers: dict[str, str]) -> Answer:
        claims, error = self._bearer(headers)
        if claims is None:
            assert error is not None
            return error
        self._end_session(claims["session_id"])
        return 204, {}, None

    # -- helpers ---------------------------------------------------------------------
    def _new_session(self, user: FakeUser) -> dict[str, Any]:
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = user.id
        return self._session_json(user, session_id)

    def _session_json(self, user: FakeUser, session_id: str) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(9)
        self.refresh_tokens[refresh] = Refresh(session_id)
        ttl = self.knobs.access_ttl
        return {
            "access_token": self.sign(self.claims_for(user, session_id)),
            "token_type": "bearer",
            "expires_in": ttl,
            "expires_at": int(time.time()) + ttl,
            "refresh_token": refresh,
            "user": self._user_json(user),
        }

    def _end_session(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        for token in [t for t, r in self.refresh_tokens.items() if r.session_id == session_id]:
            del self.refresh_tokens[token]

    def _user_json(self, user: FakeUser) -> dict[str, Any]:
        identity = {
            "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, user.id)),
            "id": user.id,
            "user_id": user.id,
            "identity_data": {"email": user.email, "sub": user.id},
            "provider": "email",
            "created_at": user.created_at,
        }
        return {
            "id": user.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": user.email,
            "email_confirmed_at": user.created_at if user.confirmed else None,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {**user.metadata, "email": user.email, "sub": user.id},
            "identities": [identity],
            "created_at": user.created_at,
            "updated_at": user.created_at,
            "is_anonymous": False,
        }

    def _token_error(self, headers: dict[str, str], code: str, message: str) -> Answer:
        if self.knobs.legacy_errors:
            return 400, {}, {"error": "invalid_grant", "error_description": message}
        return self._error(headers, 400, code, message)

    def _error(
        self, headers: dict[str, str], status: int, code: str, message: str, **extra: Any
    ) -> Answer:
        if headers.get("x-supabase-api-version") == "2024-01-01":
            return status, {}, {"code": code, "message": message, **extra}
        return status, {}, {"code": status, "error_code": code, "msg": message, **extra}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake: FakeGoTrue = self.server.fake  # type: ignore[attr-defined]
        status, extra, body = fake.handle(self.command, self.path, headers, raw)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass
