"""Names of the uploads context's background jobs."""

INGEST_UPLOAD = "uploads.ingest"
