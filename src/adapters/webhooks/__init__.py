"""Signature checks for inbound provider webhooks (Twilio, Meta, Amazon SNS, Razorpay, Stripe)."""
