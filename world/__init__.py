"""catchall."""
