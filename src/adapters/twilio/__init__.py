"""Twilio adapters (REST API over an injected httpx.AsyncClient)."""
