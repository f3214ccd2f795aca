"""Callbacks: the task rules and placing a call through the PBX."""
