"""Send SMS through Amazon SNS (`Publish` with `PhoneNumber`), on an injected aioboto3 `sns` client.

Followed: https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html (message attributes) and the SNS API
reference for `Publish` (its errors, as in botocore's service model).

Message attributes (all `DataType: String`): `AWS.SNS.SMS.SMSType` (Transactional or Promotional), the sender as
`AWS.SNS.SMS.SenderID` when alphanumeric or `AWS.MM.SMS.OriginationNumber` when it is a number (the message's
`sender_id`, else the configured one), and India's DLT registration as `AWS.MM.SMS.EntityId` and
`AWS.MM.SMS.TemplateId` when the message carries them.

SNS reports no first status and no price: the answer is `SentSms(provider_message_id=MessageId, status="sent")`.
Error codes are `sns:<Code>`: a refused number or parameter (InvalidParameter, ParameterValueInvalid, OptedOut...)
raises SmsRejected; throttling, internal errors, credentials problems (the deployment's, not the message's) and an
unreachable endpoint raise SmsUnavailable. A wrong SenderID or DLT id is also an InvalidParameter: SNS does not say
which parameter, so it is reported (and rejected) like a bad number.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from application.ports.sms import OutboundSms, SentSms, SmsRejected, SmsUnavailable

__all__ = ["SMS_TYPES", "SnsSmsSender", "sns_message_attributes"]

SMS_TYPES = frozenset({"Transactional", "Promotional"})
_NUMERIC_SENDER = re.compile(r"\+?\d{5,14}")
_REJECTED = frozenset({
    "InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid", "ValidationException", "OptedOut",
    "EndpointDisabled", "NotFound",
})
_UNAVAILABLE = frozenset({
    "Throttled", "Throttling", "ThrottlingException", "KMSThrottling", "TooManyRequestsException",
    "InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException",
    # credentials problems belong to the deployment, not to this message: keep the message for a retry
    "AuthorizationError", "InvalidSecurity", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
    "RequestExpired", "UnrecognizedClientException", "AccessDenied", "AccessDeniedException",
})


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def sns_message_attributes(sms: OutboundSms, *, sms_type: str, sender_id: str | None = None,
                           origination_number: str | None = None) -> dict[str, dict[str, str]]:
    """Return the SNS `MessageAttributes` for `sms`; its own `sender_id` wins over the configured sender."""
    attributes = {"AWS.SNS.SMS.SMSType": _string(sms_type)}
    sender = sms.sender_id
    if sender and _NUMERIC_SENDER.fullmatch(sender):
        attributes["AWS.MM.SMS.OriginationNumber"] = _string(sender)
    elif sender:
        attributes["AWS.SNS.SMS.SenderID"] = _string(sender)
    else:
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = _string(sender_id)
        if origination_number:
            attributes["AWS.MM.SMS.OriginationNumber"] = _string(origination_number)
    if sms.dlt_entity_id:
        attributes["AWS.MM.SMS.EntityId"] = _string(sms.dlt_entity_id)
    if sms.dlt_template_id:
        attributes["AWS.MM.SMS.TemplateId"] = _string(sms.dlt_template_id)
    return attributes


def _from_client_error(exc: ClientError) -> SmsRejected | SmsUnavailable:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    text = f"SNS {code}: {error.get('Message', '')}"
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _REJECTED:
        return SmsRejected(text, code=f"sns:{code}")
    if code in _UNAVAILABLE or status >= 500 or status == 429:
        return SmsUnavailable(text, code=f"sns:{code}")
    return SmsRejected(text, code=f"sns:{code}")


class SnsSmsSender:
    def __init__(self, client: Any, *, sms_type: str = "Transactional", sender_id: str | None = None,
                 origination_number: str | None = None) -> None:
        """Wrap an open aioboto3 `sns` client (created once per process and injected)."""
        if sms_type not in SMS_TYPES:
            raise ValueError(f"sms_type must be one of {sorted(SMS_TYPES)}, not {sms_type!r}")
        self._client = client
        self._sms_type = sms_type
        self._sender_id = sender_id
        self._origination_number = origination_number

    async def send(self, sms: OutboundSms) -> SentSms:
        """Publish the message to its phone number; raises SmsRejected or SmsUnavailable (see the module doc)."""
        attributes = sns_message_attributes(sms, sms_type=self._sms_type, sender_id=self._sender_id,
                                            origination_number=self._origination_number)
        try:
            response = await self._client.publish(PhoneNumber=sms.to, Message=sms.body, MessageAttributes=attributes)
        except ClientError as exc:
            raise _from_client_error(exc) from exc
        except ParamValidationError as exc:
            raise SmsRejected(f"SNS request is invalid: {exc}", code="sns:invalid_request") from exc
        except (BotoCoreError, aiohttp.ClientError, OSError) as exc:  # endpoint unreachable, timeouts, no credentials
            raise SmsUnavailable(f"cannot reach SNS: {exc}", code=f"sns:{type(exc).__name__}") from exc
        message_id = str(response.get("MessageId") or "")
        if not message_id:
            raise SmsUnavailable("SNS answered without a MessageId", code="sns:no_message_id")
        return SentSms(provider_message_id=message_id, status="sent")
