"""Check the `X-Twilio-Signature` header of a Twilio webhook.

Followed: https://www.twilio.com/docs/usage/webhooks/webhooks-security (and the twilio-python `RequestValidator`).
The signed string is the full URL Twilio requested (query string included) followed, for a form POST, by every
parameter sorted by name (case-sensitive), each as name + value with no separator; a name sent several times
contributes all its values, sorted. The signature is base64(HMAC-SHA1(auth token, that string)).

For an `application/json` body Twilio adds a `bodySHA256` query parameter (hex SHA-256 of the raw body): the URL
alone is signed, and the body must hash to that value.

Twilio's signing is not consistent about ports, so, like Twilio's own SDKs, a signature over the URL with its port
removed, or with the scheme's default port added, is also accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qs, urlsplit, urlunsplit

__all__ = [
    "SIGNATURE_HEADER",
    "twilio_body_sha256",
    "twilio_signature",
    "verify_twilio",
    "verify_twilio_any",
    "verify_twilio_json",
    "verify_twilio_json_any",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
_BODY_HASH_PARAMETER = "bodySHA256"
_DEFAULT_PORTS = {"https": 443, "http": 80}

TwilioParams = Mapping[str, str | Sequence[str]]


def twilio_signature(auth_token: str, url: str, params: TwilioParams) -> str:
    """Return the signature Twilio puts in `X-Twilio-Signature` for `url` and the POST `params`."""
    signed = [url]
    for name in sorted(params):
        value = params[name]
        values = [value] if isinstance(value, str) else list(value)
        signed.extend(name + one for one in sorted(values))
    digest = hmac.new(auth_token.encode("utf-8"), "".join(signed).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_body_sha256(raw_body: bytes) -> str:
    """Return the `bodySHA256` value Twilio puts in the URL of a JSON webhook."""
    return hashlib.sha256(raw_body).hexdigest()


def verify_twilio(auth_token: str, url: str, params: TwilioParams, signature: str | None) -> bool:
    """Whether `signature` is Twilio's for a form (or GET) request to `url` carrying `params`."""
    if not signature or not auth_token:
        return False
    return any(_same(twilio_signature(auth_token, candidate, params), signature) for candidate in _url_variants(url))


def verify_twilio_json(auth_token: str, url: str, raw_body: bytes, signature: str | None) -> bool:
    """Whether `signature` is Twilio's for a JSON request to `url` (which must carry `bodySHA256`) with `raw_body`."""
    try:
        body_hashes = parse_qs(urlsplit(url).query, keep_blank_values=True).get(_BODY_HASH_PARAMETER, [])
    except ValueError:
        return False
    if len(body_hashes) != 1 or not _same(twilio_body_sha256(raw_body), body_hashes[0]):
        return False
    return verify_twilio(auth_token, url, {}, signature)


def verify_twilio_any(tokens: Iterable[str], url: str, params: TwilioParams, signature: str | None) -> bool:
    """`verify_twilio` with each of `tokens` (primary and secondary auth token during a rotation)."""
    return any(verify_twilio(token, url, params, signature) for token in tokens)


def verify_twilio_json_any(tokens: Iterable[str], url: str, raw_body: bytes, signature: str | None) -> bool:
    """`verify_twilio_json` with each of `tokens` (primary and secondary auth token during a rotation)."""
    return any(verify_twilio_json(token, url, raw_body, signature) for token in tokens)


def _same(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


def _url_variants(url: str) -> list[str]:
    """The URL as received, without its port, and with the scheme's default port when it has none."""
    variants = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return variants
    userinfo, at, host_port = parts.netloc.rpartition("@")
    if port is not None:
        host = host_port[: host_port.rfind(":")]
        variants.append(urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}")))
    elif parts.scheme in _DEFAULT_PORTS and host_port:
        variants.append(urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host_port}:{_DEFAULT_PORTS[parts.scheme]}")))
    return list(dict.fromkeys(variants))
