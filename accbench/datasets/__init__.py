"""Dataset readers: manifests, folder layouts, public stem datasets and the built-in demo set."""
