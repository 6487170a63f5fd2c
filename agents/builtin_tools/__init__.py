"""Tools that ship with the platform."""
