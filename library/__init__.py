"""A folder of videos as one library: an index (SQLite: FTS5 words + sqlite-vec vectors), hybrid search,
questions across videos, whisper-style exports, URL input and an MCP server.

The pipeline reads the same as for one video: each video's typed context
(:func:`chat.api.build_context`) becomes rows of :mod:`library.store`;
:mod:`library.search` ranks them; :mod:`library.evidence` turns the best
videos' entries back into one typed context that the one-video answer path reads.
"""
