"""Small widgets shared by several views (message box and counter, labels that never widen)."""
