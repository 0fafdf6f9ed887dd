"""Names of the identity context's background jobs."""

SEND_PASSWORD_LINK = "identity.send_password_link"
