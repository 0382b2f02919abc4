"""Tools for content editors: review and approval, coverage, previews (run through `make`)."""
