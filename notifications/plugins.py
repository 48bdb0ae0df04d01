"""Load Apprise's service plugins once, quietly.

Apprise's e-mail plugin imports `imghdr`, which Python 3.11 reports as deprecated; the warning
is Apprise's business, and under `-W error` (our tests) it would stop the import.
"""

from __future__ import annotations

import warnings

from apprise.manager_plugins import NotificationManager


def load_apprise_plugins() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
        NotificationManager().load_modules()  # type: ignore[no-untyped-call]
