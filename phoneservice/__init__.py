"""phoneservice: telephone hours, call logging and callbacks for Danish municipalities."""

__version__ = "0.1.0"
