"""docs_src/events: the "Lifespan Events" page."""
