"""Generic model adapters: Python factories and entry points, torch modules, subprocess models."""
