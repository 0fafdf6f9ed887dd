"""Amazon Web Services adapters (aioboto3 clients are created once per process and injected)."""
