"""Stored runs as the API sees them: deciding, resuming, continuing, cancelling, listing.

See `agents.runs.services` for the contract.
"""
