"""The board ``/``, the unit pages and the public JSON API."""
