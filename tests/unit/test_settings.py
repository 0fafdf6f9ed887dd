"""`load_settings`: defaults, parse errors, the production guard rails, and the `.env.example` template."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from entrypoints.settings import PROVIDER_REQUIREMENTS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {f.name: f for f in msgspec.structs.fields(Settings)}
INT_FIELDS = sorted(name for name, f in FIELDS.items() if f.type is int)
DEV_SINK_SETTINGS = ("email_provider", "sms_provider", "whatsapp_provider", "payment_provider")


def var(field: str) -> str:
    return field.upper()


def production_env(**choices: str) -> dict[str, str]:
    """A fully configured production environment: every provider variable set, no dev sink chosen.

    The default choices need no variable that another choice shares (e.g. AWS_REGION), so removing one
    variable later trips exactly the requirement under test.
    """
    env = {var(name): f"value-of-{name}" for name, f in FIELDS.items()
           if f.type == (str | None) and name not in ("jwt_signing_keys", "mfa_encryption_keys")}
    env.update({
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://app:secret@db.internal:5432/renewals",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "JWT_SECRET": "x" * 48,
        "MFA_ENCRYPTION_KEYS": "bWZhLXRlc3Qta2V5LW9ubHktZm9yLXRlc3RzLTMyYnk=",
        "UNSUBSCRIBE_SECRET": "u" * 40,
        "TRACKING_SECRET": "t" * 40,
        "EMAIL_PROVIDER": "smtp",
        "SMS_PROVIDER": "twilio",
        "WHATSAPP_PROVIDER": "cloud",
        "STORAGE_BACKEND": "local",
        "AI_PROVIDER": "offline",
        "PAYMENT_PROVIDER": "razorpay",
    })
    env.update({var(k): v for k, v in choices.items()})
    return env


def refused(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env)
    return str(excinfo.value)


# --- defaults and parsing -----------------------------------------------------------------------------

def test_an_empty_environment_gives_the_development_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.app_env == "development"
    assert not settings.is_production
    assert (settings.email_provider, settings.sms_provider, settings.whatsapp_provider,
            settings.payment_provider) == ("dev", "dev", "dev", "dev")
    assert settings.storage_backend == "local"
    assert settings.ai_provider == "offline"
    assert settings.port == 8000
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.jwt_secret is None
    assert settings.renewal_window_days == 45
    assert settings.policy_type_list == ("motor", "health", "life", "term", "home", "travel",
                                         "personal_accident")


def test_variables_are_read_by_upper_case_name_and_converted() -> None:
    settings = load_settings({"PORT": "9001", "RENEWAL_WINDOW_DAYS": "30", "EMAIL_PROVIDER": "smtp",
                              "POLICY_TYPES": " Motor, health ,", "port": "1"})
    assert settings.port == 9001
    assert settings.renewal_window_days == 30
    assert settings.email_provider == "smtp"
    assert settings.policy_type_list == ("motor", "health")


def test_an_empty_value_counts_as_unset() -> None:
    assert load_settings({"PORT": "", "DATABASE_URL": ""}) == Settings()


def test_a_bad_integer_names_the_variable() -> None:
    message = refused({"PORT": "eighty"})
    assert message.startswith("PORT"), message


@pytest.mark.parametrize("field", INT_FIELDS)
def test_every_integer_variable_names_itself_when_it_does_not_parse(field: str) -> None:
    assert var(field) in refused({var(field): "not-a-number"})


@pytest.mark.parametrize(("variable", "value"),
                         [("EMAIL_PROVIDER", "carrier-pigeon"), ("APP_ENV", "staging")])
def test_an_unknown_choice_names_the_variable(variable: str, value: str) -> None:
    assert variable in refused({variable: value})


@pytest.mark.parametrize("days", ["0", "366"])
def test_the_renewal_window_is_bounded(days: str) -> None:
    assert "RENEWAL_WINDOW_DAYS" in refused({"RENEWAL_WINDOW_DAYS": days})


def test_at_least_one_policy_type_is_required() -> None:
    assert "POLICY_TYPES" in refused({"POLICY_TYPES": " , "})


# --- production guard rails ---------------------------------------------------------------------------

def test_a_fully_configured_production_environment_is_accepted() -> None:
    settings = load_settings(production_env())
    assert settings.is_production
    assert settings.email_provider == "smtp"


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL", "JWT_SECRET"])
def test_production_refuses_to_start_without_its_infrastructure(variable: str) -> None:
    env = production_env()
    del env[variable]
    assert variable in refused(env)


def test_production_refuses_a_short_jwt_secret() -> None:
    assert "JWT_SECRET" in refused(production_env(jwt_secret="too-short"))


def test_production_needs_keys_to_seal_mfa_secrets() -> None:
    env = production_env()
    del env["MFA_ENCRYPTION_KEYS"]
    assert "MFA_ENCRYPTION_KEYS" in refused(env)
    assert "MFA_ENCRYPTION_KEYS" in refused(production_env(mfa_encryption_keys="not-a-key"))


def test_a_signing_key_ring_replaces_the_single_secret() -> None:
    env = production_env(jwt_signing_keys=f"2026-11:{'a' * 40},2026-10:{'b' * 40}")
    del env["JWT_SECRET"]
    assert load_settings(env).jwt_signing_keys


@pytest.mark.parametrize("ring", ["no-colon", "k1:short", f"bad kid:{'a' * 40}", f"k1:{'a' * 40},k1:{'b' * 40}"])
def test_a_malformed_key_ring_is_refused_without_echoing_secrets(ring: str) -> None:
    message = refused(production_env(jwt_signing_keys=ring))
    assert "JWT_SIGNING_KEYS" in message
    assert "a" * 40 not in message


@pytest.mark.parametrize("setting", DEV_SINK_SETTINGS)
def test_production_refuses_every_dev_sink(setting: str) -> None:
    message = refused(production_env(**{setting: "dev"}))
    assert f"{var(setting)}=dev" in message


def test_every_setting_offering_a_dev_choice_is_guarded() -> None:
    offering_dev = {name for name, f in FIELDS.items() if "dev" in getattr(f.type, "__args__", ())}
    assert offering_dev == set(DEV_SINK_SETTINGS)


def test_development_accepts_the_dev_sinks() -> None:
    settings = load_settings({var(s): "dev" for s in DEV_SINK_SETTINGS})
    assert settings.email_provider == "dev"


REQUIREMENT_TRIPLES = [(setting, choice, variable)
                       for setting, choices in PROVIDER_REQUIREMENTS.items()
                       for choice, variables in choices.items()
                       for variable in variables]


def test_the_requirement_table_names_real_settings_and_choices() -> None:
    for setting, choice, variable in REQUIREMENT_TRIPLES:
        assert setting in FIELDS and variable in FIELDS, (setting, variable)
        assert choice in FIELDS[setting].type.__args__, (setting, choice)


@pytest.mark.parametrize(("setting", "choice"), sorted({(s, c) for s, c, _ in REQUIREMENT_TRIPLES}))
def test_production_accepts_each_provider_choice_when_configured(setting: str, choice: str) -> None:
    settings = load_settings(production_env(**{setting: choice}))
    assert getattr(settings, setting) == choice


@pytest.mark.parametrize(("setting", "choice", "variable"), REQUIREMENT_TRIPLES,
                         ids=[f"{s}={c}-{v}" for s, c, v in REQUIREMENT_TRIPLES])
def test_production_refuses_a_provider_choice_missing_one_variable(setting: str, choice: str,
                                                                  variable: str) -> None:
    env = production_env(**{setting: choice})
    env.pop(var(variable), None)
    default = FIELDS[variable].default
    if default not in (None, "", msgspec.NODEFAULT):
        # A variable with a non-empty default can never be missing: the default fills it in (today only
        # LOCAL_STORAGE_DIR for STORAGE_BACKEND=local), so the requirement is met rather than refused.
        assert getattr(load_settings(env), variable) == default
        return
    message = refused(env)
    assert var(variable) in message
    assert f"{var(setting)}={choice}" in message


# --- the .env.example template ------------------------------------------------------------------------

ENV_EXAMPLE = ROOT / ".env.example"
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
SPEC_TEMPLATE_NAMES = [  # backend-guide.md "Environment Configuration Template", minus the replaced ones
    "PORT", "DATABASE_URL", "REDIS_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "S3_BUCKET_NAME", "SES_FROM_EMAIL", "SES_REPLY_TO_EMAIL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
    "TWILIO_MESSAGING_SERVICE_SID", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_WEBHOOK_VERIFY_TOKEN", "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET",
    "OPENAI_API_KEY", "OPENAI_ORGANIZATION", "GA4_MEASUREMENT_ID", "GA4_API_SECRET",
]


def env_example_lines() -> list[str]:
    assert ENV_EXAMPLE.is_file(), ".env.example is missing at the repository root"
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def env_example_assignments() -> list[tuple[str, str]]:
    found = []
    for line in env_example_lines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ASSIGNMENT.match(stripped)
        assert match, f"not a NAME=value line: {line!r}"
        found.append((match.group(1), match.group(2)))
    return found


def test_env_example_lists_every_setting() -> None:
    names = [name for name, _ in env_example_assignments()]
    missing = sorted(var(f) for f in FIELDS if var(f) not in names)
    assert missing == [], f".env.example lacks: {missing}"


def test_env_example_lists_nothing_unknown_and_nothing_twice() -> None:
    names = [name for name, _ in env_example_assignments()]
    assert sorted(set(names) - {var(f) for f in FIELDS}) == []
    assert len(names) == len(set(names))


def test_env_example_documents_each_variable_with_a_comment() -> None:
    lines = env_example_lines()
    for index, line in enumerate(lines):
        if ASSIGNMENT.match(line.strip()):
            assert index > 0 and lines[index - 1].lstrip().startswith("#"), f"no comment above {line!r}"


def test_env_example_puts_the_specification_names_first() -> None:
    names = [name for name, _ in env_example_assignments()]
    first = names[: len(SPEC_TEMPLATE_NAMES) + 1]
    assert set(first) == {"APP_ENV", *SPEC_TEMPLATE_NAMES}


def test_env_example_explains_the_replaced_specification_variables() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for word in ("NODE_ENV", "APP_ENV", "Auth0", "JWT", "New Relic", "Prometheus", "/metrics"):
        assert word in text, word


def test_env_example_loads_as_the_development_defaults() -> None:
    assert load_settings(dict(env_example_assignments())) == Settings()


@pytest.mark.parametrize("given", ["SMTP_USERNAME", "SMTP_PASSWORD"])
def test_smtp_credentials_come_in_pairs(given: str) -> None:
    with pytest.raises(SettingsError, match="SMTP_USERNAME and SMTP_PASSWORD"):
        load_settings({given: "x"})


@pytest.mark.parametrize("name", ["UNSUBSCRIBE_SECRET", "TRACKING_SECRET"])
def test_production_needs_the_link_secrets(name: str) -> None:
    env = production_env()
    env[name] = "short"
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


@pytest.mark.parametrize(("name", "value"), [("QUIET_HOURS_START", "9"), ("QUIET_HOURS_END", "25:00"),
                                             ("SMS_RATE_PER_SECOND", "-1"), ("MESSAGE_MAX_ATTEMPTS", "0")])
def test_messaging_settings_are_checked(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize("hours", ["0", "721"])
def test_a_payment_link_lives_between_an_hour_and_thirty_days(hours: str) -> None:
    with pytest.raises(SettingsError, match="PAYMENT_LINK_EXPIRY_HOURS"):
        load_settings({"PAYMENT_LINK_EXPIRY_HOURS": hours})
