"""Tests of smsdesk.services.importing (no sockets, no Qt)."""
