"""Interpretability: how a model processes Dakota grammar versus math."""
