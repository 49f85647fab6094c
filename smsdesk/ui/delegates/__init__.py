"""Item delegates: how rows of the Qt item models are painted (no widget per row)."""
