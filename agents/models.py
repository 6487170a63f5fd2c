"""Agents models."""
