"""logwarden: find where Azure and Microsoft 365 logging was switched off, cut short, purged or went quiet."""

__version__ = "0.1.0"
