"""Server-rendered analyst pages (Jinja2): the review queue and case details."""
