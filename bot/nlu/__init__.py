"""Custom NLU components of the pipeline (bot/config.yml)."""
