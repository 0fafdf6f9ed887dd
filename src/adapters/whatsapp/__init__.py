"""WhatsApp Cloud API adapters (Meta's Graph API over an injected httpx.AsyncClient)."""
