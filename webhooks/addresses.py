"""Which addresses a webhook may call (server-side request forgery guard).

A webhook URL is typed by a tenant manager and called by our servers, so it
must not reach the platform's own network: loopback, private (RFC 1918, ULA),
link-local (cloud metadata at 169.254.169.254), shared, reserved, multicast
and unspecified addresses are refused. The check runs twice:

- when the endpoint is saved (`check_url`): the URL's form, and every address
  its host resolves to now (a host that does not resolve yet is accepted:
  the delivery-time check decides);
- before every attempt (`resolve_for_delivery`): the host is resolved again,
  every address is checked, and the connection is made to one of those very
  addresses, so a DNS answer that changes between the check and the call
  (rebinding) cannot point the call inside.

`settings.WEBHOOK_ALLOW_PRIVATE = True` lifts the address rule (development
and tests, which run their receiver on 127.0.0.1); the URL's form is always checked.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from perksu.errors import DomainError

ALLOWED_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Target:
    """Where an attempt connects: the checked address, and the names the request carries."""

    scheme: str
    host: str
    """The host name as written in the URL (the Host header and TLS server name)."""
    address: str
    """The resolved, checked IP address the connection goes to."""
    port: int
    path: str
    """Path and query string."""


def _refused(message: str) -> DomainError:
    return DomainError(message, code="webhook_url_refused", field="url")


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refused("The webhook URL is not a valid URL.") from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise _refused("A webhook URL starts with https:// (or http://).")
    host = parts.hostname
    if not host:
        raise _refused("The webhook URL has no host.")
    if parts.username or parts.password:
        raise _refused("A webhook URL may not carry a user name or password.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _check_addresses(host: str, addresses: list[str]) -> None:
    if allow_private():
        return
    for address in addresses:
        if not is_public(address):
            raise _refused(
                f"The webhook host {host} resolves to {address}, a private, loopback or link-local address; "
                "webhooks only call public addresses."
            )


def check_url(url: str) -> str:
    """The URL, checked for saving; raises `DomainError(code=webhook_url_refused)`."""
    _, host, port, _ = _parts(url)
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError):
        # Not resolvable now (a name not yet published, or no DNS here): every attempt checks again.
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host.lower() == "localhost" or host.lower().endswith(".localhost"):
                addresses = ["127.0.0.1"]
            else:
                return url
        else:
            addresses = [host]
    _check_addresses(host, addresses)
    return url


def resolve_for_delivery(url: str) -> Target:
    """Resolve the URL's host now and check every address; the attempt connects to the first one.

    Raises `DomainError` (refused) or `OSError` (the name does not resolve).
    """
    scheme, host, port, path = _parts(url)
    addresses = _resolve(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    _check_addresses(host, addresses)
    return Target(scheme=scheme, host=host, address=addresses[0], port=port, path=path)
