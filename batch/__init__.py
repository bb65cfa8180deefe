"""Batch textualization: many videos in, one crash-safe JSON line per video out, on a process pool or Ray.

The package runs a unit of work it is given (``chat.api.Textualizer``) over the
videos; it never assembles perception and context itself.
"""
