"""E-mail through an SMTP relay (aiosmtplib)."""
