"""The callback work queue ``/callbacks`` and the authenticated calls and tasks API."""
