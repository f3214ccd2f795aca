"""The OpenAPI 3.1 document of ``/api/v1``, written by hand as data."""
