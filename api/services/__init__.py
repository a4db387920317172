"""The API's logic behind its routes: the routes parse and answer, these modules decide."""
