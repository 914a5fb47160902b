"""Connections above any reader backend: the worker, futures, manager and the event bridge."""
