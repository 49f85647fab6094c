"""Test helpers shared by every test package (fake keyring, runtime builders, waiting)."""
