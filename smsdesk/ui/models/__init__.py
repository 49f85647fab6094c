"""Qt item models (one per file). They read through services, never SQL."""
