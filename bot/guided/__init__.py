"""Guided flows: asylum step by step, know-your-rights walkthroughs and the service finder."""
