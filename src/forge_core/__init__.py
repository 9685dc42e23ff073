"""Forge's domain core: entities, the job lifecycle, ports and use cases.

Pure by rule: the standard library and pydantic only, no I/O. Adapters in
``forge_adapters`` implement the ports; ``forge_http`` serves the use cases.
"""
