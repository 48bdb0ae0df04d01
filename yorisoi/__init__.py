"""yorisoi (寄り添い): the case service, CLI and settings around the lifecycle engine."""

__version__ = "0.1.0"
