"""Storage kit models."""
