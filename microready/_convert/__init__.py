"""Strings and JSON values -> the types a handler declares, in pydantic v2's lax
mode and with its error shapes. Compiled once per parameter at registration."""
