"""Development-only adapters: local sinks that never talk to a real provider."""
