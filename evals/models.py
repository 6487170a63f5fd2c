"""Evals models."""
