"""Signed JSON Web Tokens with PyJWT: the identity context's short-lived access tokens (HS256 with a key ring)."""
