"""Database backends of the project (settings swap them in for Django's own)."""
