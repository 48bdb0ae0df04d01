"""Server-rendered pages (Japanese), one router per screen group."""
