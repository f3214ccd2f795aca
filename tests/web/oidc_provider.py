"""A small, real OpenID Connect provider for the tests, served on a loopback port.

Discovery, ``/authorize`` (approves the configured person at once), ``/token`` (checks
the client secret, the code, the redirect URI and the PKCE verifier) and ``/jwks`` (one
RSA key). Tests change :attr:`Provider.person`, or bend the next ID tokens with
:attr:`Provider.bend` (a wrong ``aud``, an old ``exp``, another ``nonce``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.web.browsing import served

CLIENT_ID = "phoneservice"
CLIENT_SECRET = "provider-test-secret-0123456789"
KEY_ID = "test-key-1"


@dataclass
class Person:
    """Whom the provider signs in: their subject, names and groups."""

    sub: str = "a1b2c3"
    preferred_username: str | None = "anne.agent@kommune.dk"
    name: str = "Anne Agent"
    groups: list[str] = field(default_factory=lambda: ["grp-jobcenter-agents"])


@dataclass
class Grant:
    """An issued code: what the token request must match."""

    redirect_uri: str
    challenge: str
    nonce: str | None


class Provider:
    """The provider's state and its Flask app."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        self.signing_key = self.key  # a test may sign with a key the JWKS does not hold
        self.person = Person()
        self.bend: dict[str, Any] = {}  # merged into the next ID tokens
        self.codes: dict[str, Grant] = {}
        self.issuer = ""
        self.token_requests = 0

    def reset(self) -> None:
        """The default person, honest tokens, the published key."""
        self.person, self.bend, self.signing_key = Person(), {}, self.key

    def app(self) -> Flask:
        """The provider's endpoints."""
        app = Flask("oidc_provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/jwks", view_func=self.jwks)
        return app

    def discovery(self) -> Response:
        return jsonify(
            issuer=self.issuer,
            authorization_endpoint=f"{self.issuer}/authorize",
            token_endpoint=f"{self.issuer}/token",
            jwks_uri=f"{self.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
        )

    def authorize(self) -> Any:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return "unknown client or response type", 400
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return "PKCE with S256 is required", 400
        if "openid" not in args.get("scope", "").split() or not args.get("state"):
            return "scope openid and a state are required", 400
        code = secrets.token_urlsafe(24)
        self.codes[code] = Grant(args["redirect_uri"], args["code_challenge"], args.get("nonce"))
        query = urlencode({"code": code, "state": args["state"]})
        return redirect(f"{args['redirect_uri']}?{query}")

    def token(self) -> Any:
        self.token_requests += 1
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return jsonify(error="invalid_client"), 401
        form = request.form
        grant = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return jsonify(error="invalid_grant"), 400
        if form.get("redirect_uri") != grant.redirect_uri:
            return jsonify(error="invalid_grant", error_description="redirect_uri"), 400
        if challenge(form.get("code_verifier", "")) != grant.challenge:
            return jsonify(error="invalid_grant", error_description="PKCE verifier"), 400
        return jsonify(
            access_token=secrets.token_urlsafe(16),
            token_type="Bearer",
            expires_in=300,
            id_token=self.id_token(grant.nonce),
        )

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        person = self.person
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": person.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": person.name,
            "groups": person.groups,
        }
        if person.preferred_username:
            claims["preferred_username"] = person.preferred_username
        claims.update(self.bend)
        header = {"alg": "RS256", "kid": KEY_ID}
        return jwt.encode(header, claims, self.signing_key)

    def jwks(self) -> Response:
        return jsonify(KeySet([self.key]).as_dict(private=False))


def challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@contextlib.contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider served on loopback; its issuer is its base URL."""
    provider = Provider()
    with served(provider.app()) as base:
        provider.issuer = base
        yield provider
