"""One view class per file."""
