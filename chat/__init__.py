"""Chat: answer questions about a video from its textual context, and the ``videochat`` CLI."""
