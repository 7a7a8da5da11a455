"""Shared package of the Well junction-resources API: one engine behind every function."""
