"""Tests of the osiris package (unittest)."""
