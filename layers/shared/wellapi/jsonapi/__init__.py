"""JSON:API 1.1: query parameters, documents, media types and error objects."""

MEDIA_TYPE = "application/vnd.api+json"
CURSOR_PROFILE = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination"
