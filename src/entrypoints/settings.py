"""One settings object, loaded once from the environment (names as in the specification's template)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

__all__ = ["PROVIDER_REQUIREMENTS", "Settings", "SettingsError", "load_settings"]


class SettingsError(Exception):
    """The environment is incomplete or contradictory; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    app_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    data_dir: str = ".data"
    database_url: str | None = None
    redis_url: str | None = None
    db_pool_size: int = 10
    worker_max_jobs: int = 50
    jwt_secret: str | None = None  # one signing secret (key id "k1"); JWT_SIGNING_KEYS takes precedence
    jwt_signing_keys: str | None = None  # "kid:secret,kid:secret": the first signs, all verify (rotation)
    jwt_issuer: str = "renewal-desk"
    jwt_audience: str = "renewal-desk-api"
    access_token_ttl_seconds: int = 900
    session_ttl_hours: int = 12
    refresh_idle_minutes: int = 60
    mfa_encryption_keys: str | None = None  # Fernet key ring sealing TOTP secrets; the first key seals
    frontend_url: str = "http://localhost:5173"  # password reset and invitation links point here
    # business rules
    renewal_window_days: int = 45
    default_phone_region: str = "IN"
    currency: str = "INR"
    business_timezone: str = "Asia/Kolkata"
    policy_types: str = "motor,health,life,term,home,travel,personal_accident"
    # uploads
    upload_max_mb: int = 50
    upload_batch_rows: int = 5000
    upload_stall_seconds: int = 60
    # provider choices per deployment
    email_provider: Literal["ses", "smtp", "dev"] = "dev"
    sms_provider: Literal["twilio", "sns", "dev"] = "dev"
    whatsapp_provider: Literal["cloud", "dev"] = "dev"
    storage_backend: Literal["s3", "local"] = "local"
    ai_provider: Literal["openai", "azure", "offline"] = "offline"
    payment_provider: Literal["razorpay", "stripe", "dev"] = "dev"
    # AWS (S3, SES, SNS)
    aws_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_endpoint_url: str | None = None
    s3_bucket_name: str | None = None
    local_storage_dir: str = ".data/files"
    ses_from_email: str | None = None
    ses_reply_to_email: str | None = None
    ses_configuration_set: str | None = None
    # SMTP
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from_email: str | None = None
    # Twilio
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    # SMS (any provider)
    sms_sender_id: str | None = None
    sms_sender_count: int = 1
    sms_dlt_entity_id: str | None = None
    # messaging
    public_api_url: str = "http://localhost:8000"
    unsubscribe_secret: str | None = None
    tracking_secret: str | None = None
    quiet_hours_start: str = "09:00"
    quiet_hours_end: str = "21:00"
    email_rate_per_second: float = 14.0
    sms_rate_per_second: float = 1.0
    whatsapp_rate_per_second: float = 80.0
    message_max_attempts: int = 8
    # campaigns
    campaign_batch_size: int = 1000
    campaign_lease_seconds: float = 120.0
    campaign_stall_seconds: float = 180.0
    campaign_job_seconds: float = 30.0
    campaign_lookup_url: str | None = None
    # WhatsApp Cloud API
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_business_account_id: str | None = None
    whatsapp_webhook_verify_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_api_version: str = "v21.0"
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    # payments
    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None
    razorpay_webhook_secret: str | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    razorpay_api_base_url: str = "https://api.razorpay.com"
    stripe_api_base_url: str = "https://api.stripe.com"
    payment_link_expiry_hours: int = 72
    dev_payment_webhook_secret: str | None = None  # the dev gateway's signing secret (else kept in DATA_DIR)
    payment_return_url: str | None = None  # where the customer's browser returns after paying (FRONTEND_URL/paid)
    # AI
    openai_api_key: str | None = None
    openai_organization: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    azure_openai_endpoint: str | None = None
    azure_openai_api_key: str | None = None
    azure_openai_deployment: str | None = None
    azure_openai_api_version: str = "2024-10-21"
    # analytics
    ga4_measurement_id: str | None = None
    ga4_api_secret: str | None = None

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def renewal_link_base(self) -> str:
        """Where a customer renews a policy (its number appended): the frontend's renewal page."""
        return f"{self.frontend_url.rstrip('/')}/renew/"

    @property
    def policy_type_list(self) -> tuple[str, ...]:
        return tuple(t.strip().lower() for t in self.policy_types.split(",") if t.strip())


# provider setting -> choice -> variables that choice needs
PROVIDER_REQUIREMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "email_provider": {"ses": ("aws_region", "ses_from_email"), "smtp": ("smtp_host", "smtp_from_email")},
    "sms_provider": {"twilio": ("twilio_account_sid", "twilio_auth_token", "twilio_messaging_service_sid"),
                     "sns": ("aws_region",)},
    "whatsapp_provider": {"cloud": ("whatsapp_access_token", "whatsapp_phone_number_id",
                                    "whatsapp_webhook_verify_token", "whatsapp_app_secret",
                                    "whatsapp_business_account_id")},
    "storage_backend": {"s3": ("aws_region", "s3_bucket_name"), "local": ("local_storage_dir",)},
    "ai_provider": {"openai": ("openai_api_key",),
                    "azure": ("azure_openai_endpoint", "azure_openai_api_key", "azure_openai_deployment")},
    "payment_provider": {"razorpay": ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret"),
                         "stripe": ("stripe_secret_key", "stripe_webhook_secret")},
}
DEV_SINKS = {"email_provider", "sms_provider", "whatsapp_provider", "payment_provider"}


def _var(name: str) -> str:
    return name.upper()


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read every known variable (upper-case names) from `environ` and check the deployment."""
    known = {f: environ[_var(f)] for f in Settings.__struct_fields__ if environ.get(_var(f), "") != ""}
    try:
        settings = msgspec.convert(known, Settings, strict=False)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("$.", 1)[-1].rstrip("`")
        raise SettingsError(f"{_var(path) if path != str(exc) else ''}: {exc}") from None
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.renewal_window_days < 1 or settings.renewal_window_days > 365:
        raise SettingsError("RENEWAL_WINDOW_DAYS must be between 1 and 365")
    if not settings.policy_type_list:
        raise SettingsError("POLICY_TYPES must list at least one policy type")
    if not 1 <= settings.upload_max_mb <= 1024 or not 100 <= settings.upload_batch_rows <= 100_000:
        raise SettingsError("UPLOAD_MAX_MB must be 1-1024 and UPLOAD_BATCH_ROWS 100-100000")
    if not 1 <= settings.upload_stall_seconds <= 3600:
        raise SettingsError("UPLOAD_STALL_SECONDS must be 1-3600")
    if not 1 <= settings.payment_link_expiry_hours <= 720:
        raise SettingsError("PAYMENT_LINK_EXPIRY_HOURS must be 1-720 (30 days)")
    if not 60 <= settings.access_token_ttl_seconds <= 3600:
        raise SettingsError("ACCESS_TOKEN_TTL_SECONDS must be between 60 and 3600")
    if not 1 <= settings.session_ttl_hours <= 24 * 30 or not 5 <= settings.refresh_idle_minutes <= 24 * 60:
        raise SettingsError("SESSION_TTL_HOURS must be 1-720 and REFRESH_IDLE_MINUTES 5-1440")
    if settings.mfa_encryption_keys:
        from adapters.crypto.fernet_sealer import parse_fernet_keys
        try:
            parse_fernet_keys(settings.mfa_encryption_keys)
        except ValueError as exc:
            raise SettingsError(f"MFA_ENCRYPTION_KEYS: {exc}") from None
    if settings.jwt_signing_keys:
        from adapters.jwt.pyjwt_access_tokens import parse_key_ring
        try:
            parse_key_ring(settings.jwt_signing_keys)
        except ValueError as exc:
            raise SettingsError(f"JWT_SIGNING_KEYS: {exc}") from None
    _check_messaging(settings)
    if bool(settings.smtp_username) != bool(settings.smtp_password):
        raise SettingsError("SMTP_USERNAME and SMTP_PASSWORD must be set together")
    if not settings.is_production:
        return
    for required in ("database_url", "redis_url"):
        if not getattr(settings, required):
            raise SettingsError(f"{_var(required)} must be set in production")
    if not settings.mfa_encryption_keys:
        raise SettingsError("MFA_ENCRYPTION_KEYS must be set in production (TOTP secrets are sealed with it)")
    for secret in ("unsubscribe_secret", "tracking_secret"):
        if len(getattr(settings, secret) or "") < 32:
            raise SettingsError(f"{_var(secret)} (at least 32 characters) must be set in production")
    if not settings.jwt_signing_keys and len(settings.jwt_secret or "") < 32:
        raise SettingsError("JWT_SIGNING_KEYS or JWT_SECRET (at least 32 characters) must be set in production")
    for choice_field, choices in PROVIDER_REQUIREMENTS.items():
        choice = getattr(settings, choice_field)
        if choice == "dev" and choice_field in DEV_SINKS:
            raise SettingsError(f"{_var(choice_field)}=dev is a development sink and cannot run in production")
        for needed in choices.get(choice, ()):
            if not getattr(settings, needed):
                raise SettingsError(f"{_var(needed)} must be set when {_var(choice_field)}={choice}")


def _check_messaging(settings: Settings) -> None:
    import re

    for name in ("quiet_hours_start", "quiet_hours_end"):
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", getattr(settings, name)):
            raise SettingsError(f"{_var(name)} must be a time such as 09:00")
    if settings.quiet_hours_start == settings.quiet_hours_end:
        raise SettingsError("QUIET_HOURS_START and QUIET_HOURS_END must differ")
    for name in ("email_rate_per_second", "sms_rate_per_second", "whatsapp_rate_per_second"):
        if not 0 <= getattr(settings, name) <= 10_000:
            raise SettingsError(f"{_var(name)} must be 0 (unlimited) to 10000")
    if not 1 <= settings.campaign_batch_size <= 100_000 or not 1 <= settings.campaign_lease_seconds <= 3600:
        raise SettingsError("CAMPAIGN_BATCH_SIZE must be 1-100000 and CAMPAIGN_LEASE_SECONDS 1-3600")
    if settings.campaign_stall_seconds <= settings.campaign_lease_seconds or settings.campaign_job_seconds <= 0:
        raise SettingsError("CAMPAIGN_STALL_SECONDS must exceed CAMPAIGN_LEASE_SECONDS; CAMPAIGN_JOB_SECONDS > 0")
    if not 1 <= settings.sms_sender_count <= 1000 or not 1 <= settings.message_max_attempts <= 50:
        raise SettingsError("SMS_SENDER_COUNT must be 1-1000 and MESSAGE_MAX_ATTEMPTS 1-50")
