"""Languages: the registry of supported languages, detection, and per-message resolution."""
