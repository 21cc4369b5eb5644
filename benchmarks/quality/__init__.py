"""Itinerary quality: route facts (``facts``) and a checker (``checker``) that judges
plan JSON as a traveller reads it, independent of the planner. Used by
``benchmarks/itinerary_quality.py``; see ``benchmarks/README-itinerary-quality.md``."""
