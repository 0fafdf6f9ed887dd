"""File storage on the local disk (development and single-host deployments)."""
