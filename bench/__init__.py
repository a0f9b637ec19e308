"""The points benchmark (`python bench/points.py`): Perksu against baselines on the same PostgreSQL."""
