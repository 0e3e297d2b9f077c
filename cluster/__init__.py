"""Execution backends (local pool, Ray, Dask) behind one small interface."""
