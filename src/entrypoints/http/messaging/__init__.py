"""HTTP controllers of the messaging context."""
