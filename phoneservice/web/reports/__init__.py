"""The reports page ``/reports``, its CSV tables and ``/api/v1/reports``."""
