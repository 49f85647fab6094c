"""Tests of smsdesk.services.imports (no sockets, no Qt)."""
