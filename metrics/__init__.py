"""Metrics: analyzers (beats, chords, key, onsets, embeddings) and the scores computed from them."""
