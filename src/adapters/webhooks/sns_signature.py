"""Verify Amazon SNS messages delivered to an HTTP(S) subscription.

Followed: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html and
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html (and AWS's
own aws-php-sns-message-validator for the certificate URL rules).

- The string to sign is `Name\\nvalue\\n` for each signed field, in this order:
  Notification: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type;
  SubscriptionConfirmation and UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token,
  TopicArn, Type. Values are the JSON-decoded strings (escapes such as `\\n` turned back into characters).
- `Signature` is base64 of an RSA PKCS#1 v1.5 signature: SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2.
- The public key comes from the X.509 certificate at `SigningCertURL`, which must be an https URL on an SNS regional
  host (`sns.<region>.amazonaws.com`, or `.amazonaws.com.cn` in China) with a `.pem` path: no user info, no port
  other than 443, no query. The region part must look like an AWS region, which also rules out S3 virtual hosts such
  as `sns.s3-eu-west-1.amazonaws.com`. Trust in the certificate comes from fetching it over verified TLS from that
  host; it must also be within its validity period.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.system.clock import SystemClock
from domain.shared.clock import Clock

__all__ = [
    "DEFAULT_SNS_HOST_PATTERN",
    "CertificateFetcher",
    "SnsMessageVerifier",
    "httpx_certificate_fetcher",
    "is_sns_certificate_url",
    "sns_string_to_sign",
]

CertificateFetcher = Callable[[str], Awaitable[bytes]]

DEFAULT_SNS_HOST_PATTERN = re.compile(r"sns\.[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(?:\.cn)?")

_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED_FIELDS = {
    "Notification": _NOTIFICATION_FIELDS,
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
_OPTIONAL_FIELDS = frozenset({"Subject"})
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_MAX_CERTIFICATE_BYTES = 64 * 1024


def sns_string_to_sign(message: Mapping[str, object]) -> bytes | None:
    """Return the bytes SNS signed for `message`, or None when its type is unknown or a signed field is missing."""
    fields = _SIGNED_FIELDS.get(str(message.get("Type")))
    if fields is None:
        return None
    lines: list[str] = []
    for name in fields:
        value = message.get(name)
        if value is None and name in _OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            return None
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


def is_sns_certificate_url(url: str, host_pattern: re.Pattern[str] = DEFAULT_SNS_HOST_PATTERN) -> bool:
    """Whether `url` may be fetched as an SNS signing certificate (https, an SNS host, a `.pem` path)."""
    if not url.isascii() or any(char.isspace() or not char.isprintable() or char == "\\" for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme != "https" or host is None:
        return False
    # the authority must be the host alone (or with :443): no user info, no other port
    if parts.netloc.lower() not in (host, f"{host}:443") or host_pattern.fullmatch(host) is None:
        return False
    return parts.path.endswith(".pem") and not parts.query and not parts.fragment


def httpx_certificate_fetcher(client: httpx.AsyncClient, timeout_seconds: float = 10.0) -> CertificateFetcher:
    """Return a fetcher that GETs a certificate with `client` (TLS verified, no redirects)."""

    async def fetch(url: str) -> bytes:
        response = await client.get(url, follow_redirects=False, timeout=timeout_seconds)
        response.raise_for_status()
        if len(response.content) > _MAX_CERTIFICATE_BYTES:
            raise ValueError(f"the certificate at {url} is larger than {_MAX_CERTIFICATE_BYTES} bytes")
        return response.content

    return fetch


class SnsMessageVerifier:
    """Checks the signature of parsed SNS messages; certificates are fetched once per URL, kept in a bounded cache."""

    def __init__(
        self,
        fetch: CertificateFetcher,
        allowed_host_pattern: str | re.Pattern[str] = DEFAULT_SNS_HOST_PATTERN,
        *,
        clock: Clock | None = None,
        topic_arns: Collection[str] | None = None,
        cache_size: int = 32,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self._fetch = fetch
        self._host_pattern = re.compile(allowed_host_pattern)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._topic_arns = frozenset(topic_arns) if topic_arns is not None else None
        self._cache_size = cache_size
        self._certificates: dict[str, x509.Certificate] = {}

    async def verify(self, message: Mapping[str, object]) -> bool:
        """Whether `message` (the JSON body, decoded) carries a valid SNS signature from a currently valid certificate.

        A certificate that cannot be fetched or parsed also gives False.
        """
        version = message.get("SignatureVersion")
        hash_factory = _HASHES.get(version) if isinstance(version, str) else None
        signed = sns_string_to_sign(message)
        signature = _decode_signature(message.get("Signature"))
        url = message.get("SigningCertURL")
        if hash_factory is None or signed is None or signature is None or not isinstance(url, str):
            return False
        if self._topic_arns is not None and message.get("TopicArn") not in self._topic_arns:
            return False
        if not is_sns_certificate_url(url, self._host_pattern):
            return False
        certificate = await self._certificate(url)
        if certificate is None or not self._currently_valid(certificate):
            return False
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        try:
            public_key.verify(signature, signed, padding.PKCS1v15(), hash_factory())
        except InvalidSignature:
            return False
        return True

    def _currently_valid(self, certificate: x509.Certificate) -> bool:
        now = self._clock.now()
        return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc

    async def _certificate(self, url: str) -> x509.Certificate | None:
        cached = self._certificates.get(url)
        if cached is not None:
            return cached
        try:
            pem = await self._fetch(url)
            certificate = x509.load_pem_x509_certificate(pem)
        except Exception:  # any fetch or parse failure means the message cannot be verified
            return None
        while len(self._certificates) >= self._cache_size:
            del self._certificates[next(iter(self._certificates))]
        self._certificates[url] = certificate
        return certificate


def _decode_signature(value: object) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
