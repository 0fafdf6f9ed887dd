"""QR code images (for the otpauth URI of MFA setup) drawn with segno."""
