"""Use cases: each public method owns one transaction and reads the injected clock."""
