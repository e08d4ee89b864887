"""flowtape's read side: open, step through, compare and export recordings."""

__all__: list[str] = []
