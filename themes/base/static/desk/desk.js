// The desk's one script: small enhancements over pages that work without it. htmx does the swapping.
