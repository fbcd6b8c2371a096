"""Deterministic delay simulator: timing model, latency models, miss policies, event log."""
