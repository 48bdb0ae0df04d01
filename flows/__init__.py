"""Prefect flows: thin entry points over the plain-Python sweeps, dispatcher and event relay.

One module per flow. Importing this package imports nothing from Prefect; each flow module does.
"""
