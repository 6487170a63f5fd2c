"""Services write: datasets and cases, experiments and their results."""
