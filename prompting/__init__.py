"""Prompting: fuse observations into the VideoChat-style textual video context and fit it to the LLM window."""
