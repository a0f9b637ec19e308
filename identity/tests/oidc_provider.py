"""A small but real OpenID Connect provider for the tests, on 127.0.0.1 (an ephemeral port).

It serves discovery, an authorization endpoint with its own sign-in form, a token endpoint
(client_secret_basic or _post; the PKCE S256 verifier checked; codes single use), and its
JWKS; ID tokens are RS256, signed with joserfc. `mode` makes it misbehave the ways a
relying party must refuse: "wrong_state", "expired", "bad_signature", "wrong_audience",
"wrong_nonce".
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.impostor = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.mode = "good"
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def metadata(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": hashlib.sha256(grant["email"].encode()).hexdigest()[:24],
            "aud": "someone-else" if self.mode == "wrong_audience" else self.client_id,
            "iat": now - 3600 if self.mode == "expired" else now,
            "exp": now - 1800 if self.mode == "expired" else now + 300,
            "nonce": "not-the-nonce" if self.mode == "wrong_nonce" else grant["nonce"],
            "email": grant["email"],
            "email_verified": True,
            "name": grant["name"],
        }
        key = self.impostor if self.mode == "bad_signature" else self.key
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str, **headers) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, body: dict) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _form(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.metadata())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    return self._authorize_form(query)
                return self._json(404, {"error": "not_found"})

            def _authorize_form(self, query: dict) -> None:
                if query.get("client_id") != provider.client_id or query.get("response_type") != "code":
                    return self._json(400, {"error": "invalid_request"})
                if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                    return self._json(400, {"error": "invalid_request", "error_description": "PKCE required"})
                hidden = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items()
                )
                page = (
                    "<!doctype html><title>Test IdP</title><h1>Test identity provider</h1>"
                    f'<form method="post" action="/authorize">{hidden}'
                    '<label>IdP e-mail <input name="idp_email" value="'
                    f'{html.escape(query.get("login_hint", ""))}"></label>'
                    '<label>IdP password <input name="idp_password" type="password"></label>'
                    "<button>Continue to Perksu</button></form>"
                )
                self._send(200, page.encode(), "text/html; charset=utf-8")

            def do_POST(self) -> None:
                url = urlparse(self.path)
                form = self._form()
                if url.path == "/authorize":
                    code = secrets.token_urlsafe(24)
                    provider.codes[code] = {
                        "email": form["idp_email"],
                        "name": form["idp_email"].split("@")[0].title(),
                        "nonce": form.get("nonce", ""),
                        "challenge": form["code_challenge"],
                        "redirect_uri": form["redirect_uri"],
                    }
                    state = form.get("state", "") + ("-tampered" if provider.mode == "wrong_state" else "")
                    location = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': state})}"
                    return self._send(302, b"", "text/plain", Location=location)
                if url.path == "/token":
                    return self._token(form)
                return self._json(404, {"error": "not_found"})

            def _token(self, form: dict) -> None:
                client_id, client_secret = form.get("client_id"), form.get("client_secret")
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    from urllib.parse import unquote

                    client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
                    client_id, client_secret = unquote(client_id), unquote(client_secret)
                provider.token_requests.append({"client_id": client_id, **form})
                if (client_id, client_secret) != (provider.client_id, provider.client_secret):
                    return self._json(401, {"error": "invalid_client"})
                grant = provider.codes.pop(form.get("code", ""), None)  # single use
                if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge != grant["challenge"]:
                    return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verifier"})
                self._json(
                    200,
                    {
                        "access_token": secrets.token_urlsafe(16),
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(grant),
                    },
                )

        return Handler
