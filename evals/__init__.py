"""Evals: datasets of cases, scorers, and experiments that run a dataset against an agent."""
