"""Evals: datasets, scorers and eval runs."""
