"""The web layer: thin blueprints that parse a request, call the logic and render or serialise."""
