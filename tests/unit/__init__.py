"""Unit tests of the pure logic: no database server, no build."""
