"""The starter library seeded into `templates`: renewal reminders (30/15/7/1 days before, 3 days overdue), payment
link, receipt and lapse notice.

One entry per (name, channel, language); another language is more entries with the same names and their own
`language`. Variables come from the preview's sample table (`customer_name`, `policy_number`, `renewal_date`,
`renewal_amount`, `renewal_link`, `amount`, `due_date`, `payment_link`, `payment_date`, `receipt_number`,
`expiry_date`). SMS texts stay in the GSM-7 alphabet (`Rs.` rather than the rupee sign) and within two segments;
WhatsApp texts are free text for the 24-hour window (`*bold*` is WhatsApp's own markup).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.messaging.model import Channel

__all__ = ["STARTER_TEMPLATES", "StarterTemplate"]


@dataclass(frozen=True, slots=True)
class StarterTemplate:
    name: str
    channel: Channel
    language: str
    category: str
    content: str
    subject: str | None = None  # email only


_FOOTER = ("You are receiving this email because you hold policy {policy_number} with us. We will never ask you "
           "for your card details or OTP by email.")
_SIGN_OFF = "<p>Warm regards,<br>The Renewals Team</p>"


def _button(link: str, label: str) -> str:
    return (f'<p><a href="{{{link}}}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;'
            f'color:#ffffff;text-decoration:none;border-radius:4px">{label}</a></p>')


def _email(*paragraphs: str) -> str:
    """A short HTML email: the paragraphs, the sign-off and the footer line, in one styled block."""
    body = "\n".join((*paragraphs, _SIGN_OFF))
    return (f'<div style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2937">\n'
            f"{body}\n"
            f'<p style="margin-top:24px;font-size:12px;color:#6b7280">{_FOOTER}</p>\n</div>')


def _reminder_email(days: int) -> str:
    when = "tomorrow" if days == 1 else f"in {days} days"
    urgency = {
        30: "Renewing early keeps your cover running without a break.",
        15: "Renew now to keep your cover running without a break.",
        7: "Please renew soon: a lapsed policy leaves you without cover.",
        1: "This is the last reminder before the renewal date. Renew today to avoid a break in cover.",
    }[days]
    return _email(
        "<p>Dear {customer_name},</p>",
        f"<p>Your policy <strong>{{policy_number}}</strong> is due for renewal {when}, on "
        f"<strong>{{renewal_date}}</strong>. {urgency}</p>",
        "<p>Renewal premium: <strong>&#8377;{renewal_amount}</strong></p>",
        _button("renewal_link", "Renew your policy"),
        "<p>If you have already renewed, please ignore this message. For any question, simply reply to this "
        "email.</p>")


_REMINDER_SUBJECTS = {
    30: "Your policy {policy_number} is due for renewal on {renewal_date}",
    15: "Reminder: policy {policy_number} renews in 15 days",
    7: "Only 7 days left to renew policy {policy_number}",
    1: "Renew policy {policy_number} by tomorrow, {renewal_date}",
}
_REMINDER_SMS = {
    30: "Dear {customer_name}, your policy {policy_number} is due for renewal in 30 days, on {renewal_date}. "
        "Premium Rs. {renewal_amount}. Renew online: {renewal_link}",
    15: "Reminder: your policy {policy_number} renews in 15 days, on {renewal_date}. Premium Rs. {renewal_amount}. "
        "Renew now: {renewal_link}",
    7: "Dear {customer_name}, only 7 days left to renew policy {policy_number} (due {renewal_date}). "
       "Premium Rs. {renewal_amount}. Renew: {renewal_link}",
    1: "URGENT: policy {policy_number} is due for renewal tomorrow, {renewal_date}. Renew today to avoid a break "
       "in cover: {renewal_link}",
}


def _reminder_whatsapp(days: int) -> str:
    when = "*tomorrow*" if days == 1 else f"in {days} days"
    return ("Hello {customer_name},\n\n"
            f"Your policy *{{policy_number}}* is due for renewal {when}, on *{{renewal_date}}*.\n"
            "Renewal premium: *\u20b9{renewal_amount}*\n\n"
            "Renew online: {renewal_link}\n\n"
            "Reply here if you have any questions.")


def _reminders(language: str) -> list[StarterTemplate]:
    entries: list[StarterTemplate] = []
    for days in (30, 15, 7, 1):
        name = "renewal_reminder_1_day" if days == 1 else f"renewal_reminder_{days}_days"
        entries += [
            StarterTemplate(name=name, channel=Channel.EMAIL, language=language, category="renewal",
                            subject=_REMINDER_SUBJECTS[days], content=_reminder_email(days)),
            StarterTemplate(name=name, channel=Channel.SMS, language=language, category="renewal",
                            content=_REMINDER_SMS[days]),
            StarterTemplate(name=name, channel=Channel.WHATSAPP, language=language, category="renewal",
                            content=_reminder_whatsapp(days)),
        ]
    return entries


_PAYMENT_LINK_EMAIL = _email(
    "<p>Dear {customer_name},</p>",
    "<p>Here is your secure link to pay the renewal premium of <strong>&#8377;{amount}</strong> for policy "
    "<strong>{policy_number}</strong>. Please complete the payment by <strong>{due_date}</strong>.</p>",
    _button("payment_link", "Pay securely"),
    "<p>The link opens our payment partner's page; you can pay by card, UPI or net banking.</p>")

_RECEIPT_EMAIL = _email(
    "<p>Dear {customer_name},</p>",
    "<p>Thank you. We have received your payment for policy <strong>{policy_number}</strong>.</p>",
    "<table style=\"border-collapse:collapse\">"
    "<tr><td style=\"padding:4px 16px 4px 0\">Receipt number</td><td><strong>{receipt_number}</strong></td></tr>"
    "<tr><td style=\"padding:4px 16px 4px 0\">Amount paid</td><td><strong>&#8377;{amount}</strong></td></tr>"
    "<tr><td style=\"padding:4px 16px 4px 0\">Payment date</td><td>{payment_date}</td></tr>"
    "</table>",
    "<p>Please keep this email as your receipt. Your updated policy documents will follow shortly.</p>")

_LAPSE_EMAIL = _email(
    "<p>Dear {customer_name},</p>",
    "<p>We did not receive the renewal premium for policy <strong>{policy_number}</strong>, and it lapsed on "
    "<strong>{expiry_date}</strong>. <strong>You are currently not covered.</strong></p>",
    "<p>You may still be able to restore your cover by paying <strong>&#8377;{renewal_amount}</strong>.</p>",
    _button("renewal_link", "Restore my cover"),
    "<p>If you have already paid, please reply to this email with your payment details and we will look into "
    "it.</p>")


_OVERDUE_EMAIL = _email(
    "<p>Dear {customer_name},</p>",
    "<p>The renewal of your policy <strong>{policy_number}</strong> was due on <strong>{renewal_date}</strong> and "
    "we have not received the premium yet. Your policy is in its grace period: please renew now to keep your "
    "cover.</p>",
    "<p>Renewal premium: <strong>&#8377;{renewal_amount}</strong></p>",
    _button("renewal_link", "Renew now"),
    "<p>If you have already paid, please ignore this message.</p>")


def _payments_and_lapse(language: str) -> list[StarterTemplate]:
    def three(name: str, category: str, subject: str, email: str, sms: str, whatsapp: str) -> list[StarterTemplate]:
        return [
            StarterTemplate(name=name, channel=Channel.EMAIL, language=language, category=category,
                            subject=subject, content=email),
            StarterTemplate(name=name, channel=Channel.SMS, language=language, category=category, content=sms),
            StarterTemplate(name=name, channel=Channel.WHATSAPP, language=language, category=category,
                            content=whatsapp),
        ]

    return [
        *three("payment_link", "payment", "Your payment link for policy {policy_number}", _PAYMENT_LINK_EMAIL,
               "Dear {customer_name}, pay Rs. {amount} for policy {policy_number} by {due_date} using this secure "
               "link: {payment_link}",
               "Hello {customer_name},\n\nHere is your secure link to pay *\u20b9{amount}* for policy "
               "*{policy_number}*. Please pay by *{due_date}*.\n\n{payment_link}"),
        *three("payment_received", "payment", "Payment received for policy {policy_number}", _RECEIPT_EMAIL,
               "Payment received: Rs. {amount} for policy {policy_number} on {payment_date}. Receipt no. "
               "{receipt_number}. Thank you.",
               "Hello {customer_name},\n\nThank you, we have received your payment.\n"
               "Policy: *{policy_number}*\nAmount: *\u20b9{amount}*\nDate: {payment_date}\n"
               "Receipt no.: {receipt_number}"),
        *three("renewal_overdue_3_days", "renewal", "Policy {policy_number}: your renewal is overdue", _OVERDUE_EMAIL,
               "Dear {customer_name}, the renewal of policy {policy_number} was due on {renewal_date} and is not paid "
               "yet. Pay Rs. {renewal_amount} within the grace period to stay covered: {renewal_link}",
               "Hello {customer_name},\n\nThe renewal of your policy *{policy_number}* was due on *{renewal_date}* "
               "and we have not received it yet. Please pay *\u20b9{renewal_amount}* within the grace period to stay "
               "covered.\n\nRenew online: {renewal_link}"),
        *three("lapse_notice", "lapse", "Your policy {policy_number} has lapsed", _LAPSE_EMAIL,
               "Dear {customer_name}, your policy {policy_number} lapsed on {expiry_date} as the premium was not "
               "received. You are not covered. Restore your cover: {renewal_link}",
               "Hello {customer_name},\n\nYour policy *{policy_number}* lapsed on *{expiry_date}* because the "
               "renewal premium was not received, so you are currently *not covered*.\n\n"
               "You may still restore your cover by paying *\u20b9{renewal_amount}*: {renewal_link}"),
    ]


STARTER_TEMPLATES: tuple[StarterTemplate, ...] = (*_reminders("en"), *_payments_and_lapse("en"))
