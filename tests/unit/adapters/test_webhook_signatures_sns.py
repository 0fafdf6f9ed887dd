"""Amazon SNS message signatures, checked against a key and certificate made here (no network)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from adapters.system.clock import FixedClock
from adapters.webhooks.sns_signature import (
    SnsMessageVerifier,
    httpx_certificate_fetcher,
    is_sns_certificate_url,
    sns_string_to_sign,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CERT_URL = "https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
TOPIC = "arn:aws:sns:ap-south-1:123456789012:renewals"

NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def _certificate(key: rsa.RSAPrivateKey, not_before: datetime, not_after: datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate_pem(key: rsa.RSAPrivateKey) -> bytes:
    return _certificate(key, NOW - timedelta(days=1), NOW + timedelta(days=30))


class FakeFetcher:
    """Serves certificates from a dict and counts the fetches."""

    def __init__(self, certificates: dict[str, bytes]) -> None:
        self.certificates = certificates
        self.fetched: list[str] = []

    async def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.certificates:
            raise httpx.ConnectError(f"no certificate at {url}")
        return self.certificates[url]


def _sign(key: rsa.RSAPrivateKey, message: dict[str, object], version: str = "1") -> dict[str, object]:
    """`message` signed the way SNS documents it (built here independently of the code under test)."""
    fields = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(text.encode("utf-8"), padding.PKCS1v15(), algorithm)
    return {**message, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": CERT_URL}


def _notification(subject: bool = True) -> dict[str, object]:
    message: dict[str, object] = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": '{"notificationType":"Bounce","mail":{"messageId":"m-1"}}\nsecond line',
        "Timestamp": "2026-03-01T11:59:58.655Z",
        "UnsubscribeURL": "https://sns.ap-south-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }
    if subject:
        message["Subject"] = "Bounce ✉"
    return message


def _confirmation(kind: str = "SubscriptionConfirmation") -> dict[str, object]:
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the"
                   " SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=x",
        "Timestamp": "2026-03-01T11:59:58.655Z",
    }


@pytest.fixture
def fetcher(certificate_pem: bytes) -> FakeFetcher:
    return FakeFetcher({CERT_URL: certificate_pem})


@pytest.fixture
def verifier(fetcher: FakeFetcher) -> SnsMessageVerifier:
    return SnsMessageVerifier(fetcher, clock=FixedClock(NOW))


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("build", [
    lambda: _notification(subject=True), lambda: _notification(subject=False),
    lambda: _confirmation("SubscriptionConfirmation"), lambda: _confirmation("UnsubscribeConfirmation"),
], ids=["notification", "notification-no-subject", "subscribe", "unsubscribe"])
async def test_a_signed_message_verifies(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier, version: str, build: Callable[[], dict[str, object]]
) -> None:
    message = _sign(key, build(), version)
    assert await verifier.verify(message)
    assert await verifier.verify(json.loads(json.dumps(message)))  # as decoded from the HTTP body


def test_the_string_to_sign_follows_the_documented_field_order() -> None:
    message = {**_notification(), "Subject": "S", "Message": "M", "MessageId": "I", "Timestamp": "T"}
    expected = f"Message\nM\nMessageId\nI\nSubject\nS\nTimestamp\nT\nTopicArn\n{TOPIC}\nType\nNotification\n"
    assert sns_string_to_sign(message) == expected.encode()
    assert sns_string_to_sign({**message, "Subject": None}) == expected.replace("Subject\nS\n", "").encode()
    assert sns_string_to_sign({**message, "Type": "Other"}) is None
    assert sns_string_to_sign({key: value for key, value in message.items() if key != "MessageId"}) is None


@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_changed_notification_field_is_refused(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier, field: str, version: str
) -> None:
    message = _sign(key, _notification(), version)
    assert await verifier.verify(message)
    assert not await verifier.verify({**message, field: str(message[field]) + "x"})
    assert not await verifier.verify({key: value for key, value in message.items() if key != field})


@pytest.mark.parametrize("field", ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn"])
async def test_a_changed_confirmation_field_is_refused(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier, field: str
) -> None:
    message = _sign(key, _confirmation(), "2")
    assert not await verifier.verify({**message, field: str(message[field]) + "x"})


async def test_changing_the_type_or_adding_a_subject_is_refused(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier
) -> None:
    subscribe = _sign(key, _confirmation("SubscriptionConfirmation"))
    assert not await verifier.verify({**subscribe, "Type": "UnsubscribeConfirmation"})
    assert not await verifier.verify({**subscribe, "Type": "Notification"})
    assert not await verifier.verify({**_sign(key, _notification()), "Type": "SubscriptionConfirmation"})
    assert not await verifier.verify({**_sign(key, _notification(subject=False)), "Subject": "added"})
    assert not await verifier.verify({**_sign(key, _notification()), "Type": "Surprise"})


async def test_a_changed_or_malformed_signature_is_refused(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier
) -> None:
    message = _sign(key, _notification())
    raw = bytearray(base64.b64decode(str(message["Signature"])))
    raw[10] ^= 0x01
    assert not await verifier.verify({**message, "Signature": base64.b64encode(bytes(raw)).decode()})
    for bad in ["", "not base64!", str(message["Signature"])[:-4], None, 12]:
        assert not await verifier.verify({**message, "Signature": bad})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not await verifier.verify(_sign(other_key, _notification()))


@pytest.mark.parametrize("version", ["3", "0", "", "v1", None, 1, 2])
async def test_an_unknown_signature_version_is_refused(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier, version: object
) -> None:
    message = _sign(key, _notification(), "1")
    assert not await verifier.verify({**message, "SignatureVersion": version})


async def test_a_signature_is_checked_with_the_hash_its_version_names(
    key: rsa.RSAPrivateKey, verifier: SnsMessageVerifier
) -> None:
    assert not await verifier.verify({**_sign(key, _notification(), "1"), "SignatureVersion": "2"})
    assert not await verifier.verify({**_sign(key, _notification(), "2"), "SignatureVersion": "1"})


GOOD_URLS = [
    CERT_URL,
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
    "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    "https://sns.ap-southeast-2.amazonaws.com:443/SimpleNotificationService-abc.pem",
    "https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
]
BAD_URLS = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.cn.evil.com/SimpleNotificationService-abc.pem",
    "https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://evilsns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns-us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.evil.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://bucket.s3.amazonaws.com/sns.us-east-1.amazonaws.com.pem",
    "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com\n/SimpleNotificationService-abc.pem",
    "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-abc.pem",
    "https://evil.com#@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com:80/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com:bad/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1",
    "https://sns.us-east-1.amazonaws.com/cert?file=SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem#frag",
    "https://sns.us-east-1.amazonaws.com",
    "ftp://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "//sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.c\u043em/SimpleNotificationService-abc.pem",  # a Cyrillic o
    "",
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_sns_certificate_urls_on_sns_hosts_are_allowed(url: str) -> None:
    assert is_sns_certificate_url(url)


@pytest.mark.parametrize("url", BAD_URLS)
async def test_other_certificate_urls_are_refused_without_being_fetched(
    key: rsa.RSAPrivateKey, certificate_pem: bytes, url: str
) -> None:
    assert not is_sns_certificate_url(url)
    fetcher = FakeFetcher({url: certificate_pem})  # even if the certificate were served there
    verifier = SnsMessageVerifier(fetcher, clock=FixedClock(NOW))
    assert not await verifier.verify({**_sign(key, _notification()), "SigningCertURL": url})
    assert fetcher.fetched == []


async def test_a_custom_host_pattern_replaces_the_default(key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
    only_mumbai = r"sns\.ap-south-1\.amazonaws\.com"
    verifier = SnsMessageVerifier(FakeFetcher({CERT_URL: certificate_pem}), only_mumbai, clock=FixedClock(NOW))
    assert await verifier.verify(_sign(key, _notification()))
    other_region = CERT_URL.replace("ap-south-1", "us-east-1")
    assert not await verifier.verify({**_sign(key, _notification()), "SigningCertURL": other_region})


@pytest.mark.parametrize(("not_before", "not_after"), [
    (NOW + timedelta(seconds=1), NOW + timedelta(days=30)),
    (NOW - timedelta(days=30), NOW - timedelta(seconds=1)),
])
async def test_a_certificate_outside_its_validity_period_is_refused(
    key: rsa.RSAPrivateKey, not_before: datetime, not_after: datetime
) -> None:
    fetcher = FakeFetcher({CERT_URL: _certificate(key, not_before, not_after)})
    verifier = SnsMessageVerifier(fetcher, clock=FixedClock(NOW))
    assert not await verifier.verify(_sign(key, _notification()))


async def test_a_cached_certificate_is_refused_once_it_expires(key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
    clock = FixedClock(NOW)
    verifier = SnsMessageVerifier(FakeFetcher({CERT_URL: certificate_pem}), clock=clock)
    message = _sign(key, _notification())
    assert await verifier.verify(message)
    clock.advance(timedelta(days=31))
    assert not await verifier.verify(message)


async def test_certificates_are_cached_per_url_in_a_bounded_cache(
    key: rsa.RSAPrivateKey, certificate_pem: bytes
) -> None:
    urls = [CERT_URL.replace("0123456789abcdef", name) for name in ("a", "b", "c")]
    fetcher = FakeFetcher(dict.fromkeys(urls, certificate_pem))
    verifier = SnsMessageVerifier(fetcher, clock=FixedClock(NOW), cache_size=2)
    message = _sign(key, _notification())
    for url in [urls[0], urls[0], urls[1], urls[0]]:
        assert await verifier.verify({**message, "SigningCertURL": url})
    assert fetcher.fetched == [urls[0], urls[1]]
    assert await verifier.verify({**message, "SigningCertURL": urls[2]})  # evicts the oldest, urls[0]
    assert await verifier.verify({**message, "SigningCertURL": urls[1]})
    assert await verifier.verify({**message, "SigningCertURL": urls[0]})
    assert fetcher.fetched == [urls[0], urls[1], urls[2], urls[0]]
    with pytest.raises(ValueError, match="cache_size"):
        SnsMessageVerifier(fetcher, cache_size=0)


async def test_an_unreachable_or_unreadable_certificate_refuses_the_message(key: rsa.RSAPrivateKey) -> None:
    message = _sign(key, _notification())
    assert not await SnsMessageVerifier(FakeFetcher({}), clock=FixedClock(NOW)).verify(message)
    garbage = FakeFetcher({CERT_URL: b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"})
    verifier = SnsMessageVerifier(garbage, clock=FixedClock(NOW))
    assert not await verifier.verify(message)
    assert not await verifier.verify(message)
    assert len(garbage.fetched) == 2  # failures are not cached


async def test_topic_arns_restrict_the_topics_accepted(key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
    verifier = SnsMessageVerifier(FakeFetcher({CERT_URL: certificate_pem}), clock=FixedClock(NOW), topic_arns={TOPIC})
    assert await verifier.verify(_sign(key, _notification()))
    assert not await verifier.verify(_sign(key, {**_notification(), "TopicArn": TOPIC + "-other"}))


async def test_the_httpx_fetcher_gets_the_certificate_without_following_redirects(certificate_pem: bytes) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.path.endswith("moved.pem"):
            return httpx.Response(301, headers={"Location": "https://evil.example/cert.pem"})
        if request.url.path.endswith("missing.pem"):
            return httpx.Response(404)
        return httpx.Response(200, content=certificate_pem)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        fetch = httpx_certificate_fetcher(client)
        assert await fetch(CERT_URL) == certificate_pem
        with pytest.raises(httpx.HTTPStatusError):
            await fetch(CERT_URL.replace("0123456789abcdef", "moved"))
        with pytest.raises(httpx.HTTPStatusError):
            await fetch(CERT_URL.replace("0123456789abcdef", "missing"))
    assert all(url.startswith("https://sns.ap-south-1.amazonaws.com/") for url in requested)
