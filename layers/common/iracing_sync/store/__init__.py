"""DynamoDB persistence, one room (module) per kind of item: the only package that imports PynamoDB.

It takes and returns records, never items. Import the room you use (``from iracing_sync.store import seasons``).
"""
