"""Adapters: each module connects one technology to the ports of ``forge_core``."""
