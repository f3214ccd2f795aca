"""The service evaluation (SPEC §13): the page, its PDF and ``/api/v1/evaluation``."""
